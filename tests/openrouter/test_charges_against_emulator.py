"""Over HTTP against the emulator: cut-off answers, stream errors, deadlines,
previews and tool-image shapes end with the charge the emulator's ledger holds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from emulator import EmulatorServer
from generation.openrouter import EMULATOR_API_KEY, ErrorKind, OpenRouterClient, OpenRouterError
from generation.openrouter.deadline import Deadline
from generation.openrouter.types import PartialImage

GEMINI = "google/gemini-2.5-flash-image"
GPT_IMAGE = "openai/gpt-image-1"
TEXT_MODEL = "openai/gpt-4o-mini"
TOOL = {"model": "openai/gpt-5-image", "quality": "low"}


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(port=0, generation_404_seconds=0.2) as emulator:
        yield emulator


@pytest.fixture
def make_client(server: EmulatorServer) -> Iterator[Callable[..., OpenRouterClient]]:
    server.state.reset()
    clients: list[OpenRouterClient] = []

    def make(**options: Any) -> OpenRouterClient:
        client = OpenRouterClient(
            EMULATOR_API_KEY,
            base_url=server.url,
            generation_retry_delays=(0.1, 0.2, 0.4, 0.8),
            **options,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., OpenRouterClient]) -> OpenRouterClient:
    return make_client()


def entries(server: EmulatorServer) -> list[dict[str, Any]]:
    return server.state.ledger_report(None)["entries"]


def only_charge(server: EmulatorServer) -> dict[str, Any]:
    (entry,) = entries(server)
    return entry


def caught(call: Callable[[], object]) -> OpenRouterError:
    with pytest.raises(OpenRouterError) as info:
        call()
    return info.value


# Cut-off answers: charged, the id kept, and GET /generation confirms the charge


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_truncated_chat_answer_is_confirmed_by_its_generation_id(server, client, stream):
    error = caught(
        lambda: client.chat_image(
            GEMINI, "a fox [emulator:truncate]", output_modalities=["image", "text"], stream=stream
        )
    )
    assert (error.kind, error.may_be_charged, error.retryable) == (
        ErrorKind.INTERRUPTED,
        True,
        False,
    )
    charge = only_charge(server)
    assert error.generation_id == charge["generation_id"]
    assert charge["outcome"] == "truncated"
    stats = client.get_generation(error.generation_id)
    assert stats.total_cost == Decimal(charge["cost"])


def test_truncated_responses_answer_is_confirmed_by_its_generation_id(server, client):
    error = caught(
        lambda: client.tool_image(
            TEXT_MODEL, "a kite [emulator:truncate]", tool_parameters=TOOL, api="responses"
        )
    )
    assert error.kind is ErrorKind.INTERRUPTED
    charge = only_charge(server)
    assert error.generation_id == charge["generation_id"]
    assert client.get_generation(error.generation_id).total_cost == Decimal(charge["cost"])


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_truncated_image_api_answer_may_be_charged(server, client, stream):
    error = caught(
        lambda: client.generate_image(GPT_IMAGE, "a fox [emulator:truncate]", stream=stream)
    )
    assert (error.kind, error.may_be_charged, error.generation_id) == (
        ErrorKind.INTERRUPTED,
        True,
        None,
    )
    assert Decimal(only_charge(server)["cost"]) > 0
    assert "do not simply try again" in error.user_message


# A cost that arrived is never dropped


def test_chat_stream_error_carries_the_charge(server, client):
    error = caught(
        lambda: client.chat_image(
            GEMINI, "x [emulator:stream_error]", output_modalities=["image"], stream=True
        )
    )
    charge = only_charge(server)
    assert error.kind is ErrorKind.STREAM_ERROR
    assert (error.cost, error.generation_id) == (Decimal(charge["cost"]), charge["generation_id"])


@pytest.mark.parametrize("no_usage", [False, True], ids=["with-usage", "no-usage"])
def test_image_api_stream_error_is_charged_with_or_without_its_cost(server, client, no_usage):
    directive = "[emulator:stream_error,no_usage]" if no_usage else "[emulator:stream_error]"
    partials: list[PartialImage] = []
    error = caught(
        lambda: client.generate_image(
            GPT_IMAGE, f"x {directive}", stream=True, on_partial=partials.append
        )
    )
    charge = only_charge(server)
    assert partials
    assert (error.kind, error.may_be_charged) == (ErrorKind.STREAM_ERROR, True)
    assert error.cost == (None if no_usage else Decimal(charge["cost"]))
    assert Decimal(charge["cost"]) > 0


def test_expired_tool_image_keeps_the_charge(server, client):
    server.state.update_config({"file_ttl": 0})
    error = caught(lambda: client.tool_image(TEXT_MODEL, "a kite", tool_parameters=TOOL))
    charge = only_charge(server)
    assert (error.kind, error.may_be_charged) == (ErrorKind.UPSTREAM, True)
    assert (error.cost, error.generation_id) == (Decimal(charge["cost"]), charge["generation_id"])
    assert "__emulator__/files" not in error.user_message
    assert "http" not in error.user_message


def test_streamed_image_api_refusal_is_a_refusal_reported_free(server, client):
    error = caught(lambda: client.generate_image(GPT_IMAGE, "x [emulator:refuse]", stream=True))
    assert (error.kind, error.may_be_charged, error.cost) == (ErrorKind.REFUSED, False, Decimal(0))
    assert entries(server) == []


def test_streamed_image_api_refusal_without_usage_may_be_charged(client):
    error = caught(
        lambda: client.generate_image(GPT_IMAGE, "x [emulator:refuse,no_usage]", stream=True)
    )
    assert (error.kind, error.may_be_charged, error.cost) == (ErrorKind.REFUSED, True, None)


# Previews


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_preview_then_final_stores_only_the_final(client, stream):
    partials: list[PartialImage] = []
    result = client.chat_image(
        GEMINI,
        "a lighthouse [emulator:preview]",
        output_modalities=["image", "text"],
        stream=stream,
        on_partial=partials.append,
    )
    assert len(result.images) == 1
    if stream:
        assert len(partials) == 2
        assert partials[1].data == result.images[0].data
        assert len(partials[0].data) < len(partials[1].data)


# Tool images in every shape


@pytest.mark.parametrize(
    ("api", "shape"),
    [
        ("chat", None),
        ("chat", "markdown"),
        ("chat", "plain_url"),
        ("chat", "structured"),
        ("responses", None),
        ("responses", "imageUrl"),
        ("responses", "result"),
        ("responses", "imageB64"),
    ],
)
def test_tool_image_in_every_shape(server, client, api, shape):
    prompt = "a kite" + (f" [emulator:tool_shape={shape}]" if shape else "")
    result = client.tool_image(TEXT_MODEL, prompt, tool_parameters=TOOL, api=api)
    charge = only_charge(server)
    assert len(result.images) == 1
    assert result.images[0].media_type == "image/png"
    assert (result.cost, result.generation_id) == (
        Decimal(charge["cost"]),
        charge["generation_id"],
    )


# 402: the account or the key


@pytest.mark.parametrize(
    ("directive", "scope"),
    [
        ("fail=402", "account"),
        ("fail=402,reason=credits", "account"),
        ("fail=402,reason=key_limit", "key"),
        ("fail=403,reason=key_limit", "key"),
    ],
)
def test_credits_errors_name_the_limit(client, directive, scope):
    error = caught(lambda: client.generate_image(GPT_IMAGE, f"x [emulator:{directive}]"))
    assert (error.kind, error.credits_scope, error.may_be_charged) == (
        ErrorKind.CREDITS,
        scope,
        False,
    )


def test_the_emulators_key_limit_is_reported_as_the_keys(server, client):
    server.state.update_config({"key_limit": 0})
    error = caught(lambda: client.generate_image(GPT_IMAGE, "x"))
    assert (error.kind, error.credits_scope) == (ErrorKind.CREDITS, "key")


# The per-call bound, enforced while waiting


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_deadline_cuts_a_slow_answer(server, make_client, stream):
    server.state.update_config({"keepalive_interval": 0.2})
    client = make_client(max_duration=0.5)
    error = caught(
        lambda: client.chat_image(
            GEMINI, "x [emulator:latency=5]", output_modalities=["image"], stream=stream
        )
    )
    assert (error.kind, error.retryable, error.may_be_charged) == (ErrorKind.TIMEOUT, False, True)
    assert "within 0 s" not in error.message
    if stream:
        # The headers came at once: the id is known for reconciliation.
        assert error.generation_id
        assert error.generation_id.startswith("gen-")


def test_deadline_cuts_an_image_api_stream_kept_alive_by_comments(server, make_client):
    server.state.update_config({"keepalive_interval": 0.1})
    client = make_client(max_duration=0.5)
    error = caught(lambda: client.generate_image(GPT_IMAGE, "x [emulator:latency=5]", stream=True))
    assert (error.kind, error.may_be_charged) == (ErrorKind.TIMEOUT, True)


def test_an_answer_that_arrived_whole_is_used_past_the_deadline(monkeypatch, client):
    def watch_late(self: Deadline, response: object) -> None:
        # As if the timer had not fired yet although the deadline has passed.
        self.armed = True
        self.at -= self.seconds + 1

    monkeypatch.setattr(Deadline, "watch", watch_late)
    result = client.chat_image(GEMINI, "x", output_modalities=["image"], stream=True)
    assert result.images
    assert result.cost is not None
