"""Django's PostgreSQL backend, answering at once while the server is down.

The connection pool waits its whole timeout for a connection even when every
attempt is refused at once, and a single request asks for one several times,
from several threads (the API token, the session, the user, then the error
page reading the user again). Without this, "the database is down" took that
timeout several times over to say, on every request of the outage.

After a connect through the pool failed, every connect first asks the server
directly, as Django does without a pool (a refused connection answers in
milliseconds), and fails at once when that is refused. The first connect
through the pool that works ends this, so the first request after the server
is back is served as usual.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db.backends.postgresql import base

logger = logging.getLogger(__name__)

# The direct question waits less than the pool would: it only has to tell "down" from "up".
PROBE_CONNECT_TIMEOUT_SECONDS = 2

_state = threading.Event()  # set while the server is believed down


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        if self.pool and _state.is_set():
            self._probe(conn_params)
        try:
            connection = super().get_new_connection(conn_params)
        except self.Database.OperationalError:
            if self.pool and not _state.is_set():
                logger.warning("PostgreSQL did not give a connection; answering 503 until it does")
                _state.set()
            raise
        _state.clear()
        return connection

    def _probe(self, conn_params: dict[str, Any]) -> None:
        """Raise OperationalError at once if the server refuses a direct connection."""
        params = {**conn_params, "connect_timeout": PROBE_CONNECT_TIMEOUT_SECONDS}
        self.Database.connect(**params).close()
