"""The broker transport survives Redis going away while messages are unacknowledged."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from tests import services


@pytest.mark.parametrize(
    ("transport", "survives"), [("webapp.broker:Transport", True), ("redis", False)]
)
def test_closing_a_channel_after_redis_went_away(transport: str, survives: bool) -> None:
    """What a worker's consumer does on a lost connection: close its channel, which
    puts unacknowledged messages back. Kombu's own transport raises there (and
    Celery exits); Darkroom's logs it and leaves them to the visibility timeout.
    Kombu's behaviour is checked too, so that this test notices the day it is fixed."""
    own = services.Services(root=Path(tempfile.mkdtemp(prefix="darkroom-broker-")))
    try:
        url = services.start_redis(own)
        with Connection(url, transport=transport, transport_options={"socket_timeout": 2}) as conn:
            channel: Any = conn.channel()
            queue = conn.SimpleQueue("broker-test", channel=channel)
            queue.put({"job": "a"})
            message = queue.get(timeout=5)  # delivered, not acknowledged
            assert message.payload == {"job": "a"}
            own.stop()  # Redis is gone, the message still unacknowledged

            if survives:
                channel.close()
                assert channel.closed
            else:
                with pytest.raises(Exception):  # noqa: B017, PT011 - kombu's error, whatever it is
                    channel.close()
    finally:
        own.stop()


def test_acknowledging_after_redis_went_away_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A task that finished after its connection was lost acknowledges on the old
    channel: the message stays in Redis for the visibility timeout to restore."""
    own = services.Services(root=Path(tempfile.mkdtemp(prefix="darkroom-broker-")))
    try:
        url = services.start_redis(own)
        with Connection(url, transport="webapp.broker:Transport") as conn:
            channel: Any = conn.channel()
            queue = conn.SimpleQueue("broker-test", channel=channel)
            queue.put({"job": "b"})
            message = queue.get(timeout=5)
            own.stop()
            conn.transport.client = None  # what kombu leaves after the connection was lost

            message.ack()

            assert "Could not acknowledge" in caplog.text
    finally:
        own.stop()
