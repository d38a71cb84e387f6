"""Every way a call can fail maps to one OpenRouterError with the right kind,
retryability and retry delay, and the API key never shows in any of it."""

from __future__ import annotations

import email.utils
import json
from decimal import Decimal

import httpx
import pytest

from generation.openrouter import ErrorKind, OpenRouterClient, OpenRouterError, RequestInvalid
from generation.openrouter.errors import error_from_payload, parse_retry_after
from tests.openrouter.payloads import API_KEY, BASE_URL, PNG, b64


def error_body(code: int, message: str, **metadata: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "metadata": metadata}}


def generate(client: OpenRouterClient) -> None:
    client.generate_image("openai/gpt-image-1", "a red panda")


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (400, ErrorKind.BAD_REQUEST, False),
        (401, ErrorKind.AUTH, False),
        (402, ErrorKind.CREDITS, False),
        (404, ErrorKind.NOT_FOUND, False),
        (408, ErrorKind.TIMEOUT, True),
        (413, ErrorKind.TOO_LARGE, False),
        (429, ErrorKind.RATE_LIMITED, True),
        (500, ErrorKind.UPSTREAM, True),
        (502, ErrorKind.UPSTREAM, True),
        (503, ErrorKind.UNAVAILABLE, True),
        (524, ErrorKind.TIMEOUT, True),
        (529, ErrorKind.UNAVAILABLE, True),
        (418, ErrorKind.BAD_REQUEST, False),
        (599, ErrorKind.UPSTREAM, True),
    ],
)
def test_status_maps_to_kind_and_retryability(api, client, status, kind, retryable):
    api.post("/images").respond(status, json=error_body(status, f"failure {status}"))
    with pytest.raises(OpenRouterError) as caught:
        generate(client)
    error = caught.value
    assert (error.kind, error.retryable, error.status) == (kind, retryable, status)
    assert error.message == f"failure {status}"
    assert error.code == status
    assert error.user_message


def test_400_names_the_provider_and_parses_raw_metadata(api, client):
    raw = json.dumps({"error": {"message": "output_format gif unsupported"}})
    api.post("/images").respond(
        400,
        json=error_body(400, "Provider returned error", provider_name="OpenAI", raw=raw),
    )
    with pytest.raises(OpenRouterError) as caught:
        generate(client)
    error = caught.value
    assert error.provider == "OpenAI"
    assert error.metadata["raw"] == {"error": {"message": "output_format gif unsupported"}}
    assert (
        error.user_message == "OpenRouter rejected the request (OpenAI): Provider returned error."
    )


def test_raw_that_is_not_json_is_kept_as_text():
    error = error_from_payload(502, error_body(502, "bad gateway", raw="{not json"))
    assert error.metadata["raw"] == "{not json"


def test_403_with_reasons_is_moderation(api, client):
    api.post("/images").respond(
        403,
        json=error_body(
            403,
            "Input was flagged",
            reasons=["violence", "self-harm"],
            flagged_input="a red panda with a…",
            provider_name="OpenAI",
        ),
    )
    with pytest.raises(OpenRouterError) as caught:
        generate(client)
    error = caught.value
    assert error.kind is ErrorKind.MODERATION
    assert not error.retryable
    assert error.reasons == ["violence", "self-harm"]
    assert error.user_message == "The prompt was refused by moderation: violence, self-harm."


def test_403_without_moderation_metadata_is_a_permission_error():
    error = error_from_payload(403, error_body(403, "Only management keys can view credits"))
    assert error.kind is ErrorKind.AUTH


def test_429_retry_after_seconds(api, client):
    api.post("/images").respond(
        429,
        headers={"Retry-After": "20", "X-RateLimit-Remaining": "0"},
        json=error_body(429, "Rate limit exceeded"),
    )
    with pytest.raises(OpenRouterError) as caught:
        generate(client)
    error = caught.value
    assert (error.kind, error.retryable, error.retry_after) == (ErrorKind.RATE_LIMITED, True, 20.0)
    assert error.user_message == "OpenRouter is rate limiting us; try again in 20 s."


def test_retry_after_http_date():
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 90, usegmt=True)
    assert parse_retry_after({"Retry-After": header}, now=now) == pytest.approx(90, abs=1)


def test_retry_after_date_in_the_past_is_zero():
    header = email.utils.formatdate(1_000_000_000, usegmt=True)
    assert parse_retry_after({"retry-after": header}, now=1_700_000_000.0) == 0.0


def test_ratelimit_reset_milliseconds_when_no_retry_after():
    headers = {"X-RateLimit-Reset": str(1_700_000_030_000)}
    assert parse_retry_after(headers, now=1_700_000_000.0) == pytest.approx(30)


def test_unparseable_retry_after_gives_none():
    assert parse_retry_after({"Retry-After": "soon"}) is None
    error = error_from_payload(429, error_body(429, "slow down"), {})
    assert error.retry_after is None
    assert error.user_message == "OpenRouter is rate limiting us; try again in a minute."


def test_non_json_error_body_keeps_an_excerpt(api, client):
    api.post("/images").respond(502, text="<html><body>Bad gateway</body></html>")
    with pytest.raises(OpenRouterError) as caught:
        generate(client)
    error = caught.value
    assert (error.kind, error.retryable) == (ErrorKind.UPSTREAM, True)
    assert "Bad gateway" in error.message


def test_redirect_is_not_followed(api, client):
    api.get("/images/models").respond(302, headers={"Location": "https://evil.example/x"})
    with pytest.raises(OpenRouterError) as caught:
        client.list_image_models()
    assert caught.value.kind is ErrorKind.MALFORMED
    assert "evil.example" in caught.value.message
    assert len(api.calls) == 1


def test_error_with_http_200_is_raised_and_never_retried(api, client):
    api.post("/images").respond(200, json=error_body(429, "upstream rate limit"))
    with pytest.raises(OpenRouterError) as caught:
        generate(client)
    error = caught.value
    assert error.kind is ErrorKind.RATE_LIMITED
    assert not error.retryable
    assert error.may_be_charged


@pytest.mark.parametrize(
    ("exception", "kind", "retryable"),
    [
        (httpx.ConnectError("refused"), ErrorKind.NETWORK, True),
        (httpx.ConnectTimeout("slow connect"), ErrorKind.TIMEOUT, True),
        (httpx.PoolTimeout("pool"), ErrorKind.TIMEOUT, True),
        (httpx.WriteError("broken pipe"), ErrorKind.NETWORK, True),
        # After the request was sent the provider may finish and bill it.
        (httpx.ReadTimeout("slow"), ErrorKind.TIMEOUT, False),
        (httpx.RemoteProtocolError("peer closed"), ErrorKind.NETWORK, False),
        (httpx.ReadError("reset"), ErrorKind.NETWORK, False),
    ],
)
def test_transport_failures_on_a_generation(api, client, exception, kind, retryable):
    api.post("/images").mock(side_effect=exception)
    with pytest.raises(OpenRouterError) as caught:
        generate(client)
    error = caught.value
    assert (error.kind, error.retryable) == (kind, retryable)
    assert error.may_be_charged is (not retryable)
    assert error.status is None


def test_read_timeout_on_a_generation_says_it_may_have_been_charged(api, client):
    api.post("/images").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(OpenRouterError) as caught:
        generate(client)
    assert "may have been charged" in caught.value.message
    assert "may still have been charged" in caught.value.user_message


def test_read_timeout_on_a_free_lookup_is_retryable(api, client):
    api.get("/key").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(OpenRouterError) as caught:
        client.get_key()
    assert (caught.value.kind, caught.value.retryable) == (ErrorKind.TIMEOUT, True)
    assert not caught.value.may_be_charged


@pytest.mark.parametrize(
    "body",
    [b'{"created": 0, "data": [{"b64_json": "iVBO', b"<html>oops</html>", b"[1, 2]", b""],
    ids=["truncated", "html", "array", "empty"],
)
def test_malformed_success_bodies(api, client, body):
    api.post("/images").respond(200, content=body, headers={"content-type": "application/json"})
    with pytest.raises(OpenRouterError) as caught:
        generate(client)
    error = caught.value
    assert (error.kind, error.retryable, error.may_be_charged) == (ErrorKind.MALFORMED, False, True)


def test_oversized_body_is_refused_by_content_length(api):
    api.post("/images").respond(200, json={"data": [{"b64_json": b64(PNG)}]})
    with (
        OpenRouterClient(API_KEY, base_url=BASE_URL, max_response_bytes=64) as small,
        pytest.raises(OpenRouterError) as caught,
    ):
        generate(small)
    assert caught.value.kind is ErrorKind.TOO_LARGE
    assert not caught.value.retryable


def test_oversized_streamed_body_is_cut_off(api):
    chunks = [b'{"data": [{"b64_json": "', b"A" * 100, b"A" * 100, b'"}]}']
    api.post("/images").respond(200, content=iter(chunks))
    with (
        OpenRouterClient(API_KEY, base_url=BASE_URL, max_response_bytes=150) as small,
        pytest.raises(OpenRouterError) as caught,
    ):
        generate(small)
    assert caught.value.kind is ErrorKind.TOO_LARGE


def test_key_never_appears_in_errors(api, client):
    # A provider echoing the request headers back in its error text.
    echoed = f"bad header Authorization: Bearer {API_KEY} for key {API_KEY}"
    api.post("/images").respond(401, json=error_body(401, echoed, raw=echoed, key=API_KEY))
    with pytest.raises(OpenRouterError) as caught:
        generate(client)
    error = caught.value
    for text in (str(error), repr(error), error.message, error.user_message, str(error.metadata)):
        assert API_KEY not in text
        assert "sk-or-v1-0123" not in text
    assert "[redacted]" in error.message


def test_key_never_appears_in_transport_errors(api, client):
    api.post("/images").mock(side_effect=httpx.ConnectError(f"failed with {API_KEY}"))
    with pytest.raises(OpenRouterError) as caught:
        generate(client)
    assert API_KEY not in str(caught.value)
    assert API_KEY not in repr(caught.value)


def test_key_not_in_client_repr(client):
    assert API_KEY not in repr(client)
    assert BASE_URL in repr(client)


def test_request_invalid_names_the_field():
    error = RequestInvalid("output_format", "'gif' is not offered")
    assert isinstance(error, ValueError)
    assert str(error) == "output_format: 'gif' is not offered"
    assert error.user_message == str(error)


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_every_kind_has_a_user_message(kind):
    error = OpenRouterError(kind, f"details with {API_KEY}", provider="Fal", retry_after=2.4)
    assert error.user_message.strip()
    assert API_KEY not in error.user_message
    assert error.retryable is (
        kind
        in {
            ErrorKind.TIMEOUT,
            ErrorKind.RATE_LIMITED,
            ErrorKind.UPSTREAM,
            ErrorKind.UNAVAILABLE,
            ErrorKind.NETWORK,
        }
    )


def test_cost_is_carried_on_errors():
    error = OpenRouterError(
        ErrorKind.REFUSED, "no image", cost=Decimal("0.001"), generation_id="gen-1"
    )
    assert (error.cost, error.generation_id) == (Decimal("0.001"), "gen-1")


def test_errors_survive_pickling():
    import pickle

    error = OpenRouterError(
        ErrorKind.RATE_LIMITED,
        "slow down",
        status=429,
        retry_after=3.0,
        cost=Decimal("0.01"),
        metadata={"provider_name": "Fal"},
    )
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.kind, copy.status, copy.retry_after, copy.cost, copy.metadata) == (
        ErrorKind.RATE_LIMITED,
        429,
        3.0,
        Decimal("0.01"),
        {"provider_name": "Fal"},
    )
    assert str(copy) == str(error)
    invalid = pickle.loads(pickle.dumps(RequestInvalid("n", "must be from 1 to 10")))  # noqa: S301
    assert (invalid.field, str(invalid)) == ("n", "n: must be from 1 to 10")


def test_redaction_leaves_ordinary_words_alone():
    error = OpenRouterError(ErrorKind.AUTH, "Missing Bearer authentication header")
    assert error.message == "Missing Bearer authentication header"
