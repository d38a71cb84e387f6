"""``python -m emulator``: run the emulator in the foreground."""

from __future__ import annotations

import argparse
import sys
import textwrap

from .server import EmulatorServer

EPILOG = textwrap.dedent(
    """\
    Endpoints (base /api/v1, same shapes as OpenRouter):
      GET  /images/models, /images/models/{author}/{slug}/endpoints
      GET  /models?output_modalities=text|image|all  (default text; offset/limit paging)
      POST /images, /chat/completions, /responses    (need "Authorization: Bearer <any>")
      GET  /generation?id=gen-...  (404 for --generation-404-seconds after it finished)
      GET  /key, /credits (403: needs a management key)
      A key starting with sk-or-v1-bad is refused with 401.

    Failure directives, written inside the prompt text (stripped from the image):
      [emulator:latency=2.5]            answer after 2.5 s (streams: partials spread over it)
      [emulator:stream_delay=0.3]       extra delay between SSE events
      [emulator:fail=429,retry_after=7] 429 with Retry-After: 7 and X-RateLimit-* headers
      [emulator:fail=500|502|503|402|403|400|401|404|408|413|524|529]
                                        that error, real-shaped (403 = moderation, with
                                        metadata.reasons and flagged_input); never charged
      [emulator:fail=402,reason=key_limit]
                                        "Key limit exceeded" (the key's own limit; also
                                        with fail=403); reason=credits: out of credits
      [emulator:fail_times=2,fail=503]  fail the first 2 attempts of this exact prompt,
                                        then succeed (fail defaults to 503)
      [emulator:refuse]                 200 without image, native_finish_reason IMAGE_SAFETY
                                        (Image API: empty data; stream: error event);
                                        charged a small fee, except the Image API stream
      [emulator:preview]                chat: a smaller preview image before the final one
      [emulator:stream_error]           streams: error event after the partials (charged),
                                        with usage.cost; buffered: 502 (not charged)
      [emulator:stream_error,no_usage]  the same error event without usage
      [emulator:malformed]              200 whose body (or last SSE event) is invalid JSON
      [emulator:truncate]               body or stream cut midway, connection closed
                                        (charged; X-Generation-Id and chunk ids sent first)
      [emulator:tool_shape=S]           server tool: chat markdown (default) | plain_url |
                                        structured; responses imageUrl (default) | result |
                                        imageB64
      [emulator:fewer=1]                at most 1 image, whatever n asked for
      [emulator:bytes=garbage]          base64 of bytes that are not an image
      [emulator:bomb]                   PNG declaring 30000x30000 pixels (decompression bomb)
      [emulator:svg=hostile]            SVG with <script>, on*= handlers, external hrefs
      Combine with commas: [emulator:latency=1,fail_times=1,fail=429,retry_after=2]

    Control API (no key needed), under /api/v1/__emulator__:
      GET    /ledger[?tag=T]   every charge {timestamp, route, model, provider,
                               generation_id, prompt, images, cost (decimal string),
                               tag (X-Emulator-Tag header), outcome} and "total"
      DELETE /ledger           clear the ledger
      GET    /requests[?tag=T] generation requests received: total, counts per route
                               and model, and the list (with final HTTP status)
      GET|POST /config         {"latency": 5.0, "stream_delay": 0.2,
                               "generation_404_seconds": 1.0, "file_ttl": 600,
                               "keepalive_interval": 1.0, "key_limit": null}
      GET|POST /catalog        POST {"remove": [ids]}, {"patch": {id: {...}}},
                               {"endpoint_patch": {id: {slug: {...}}}},
                               {"set_price": [{"model", "provider_slug", "billable",
                               "variant", "cost_usd"}]}, {"add": [...]}, {"replace": {...}}
      POST   /reset            config, catalog, ledger, requests, files back to start
      GET    /status           {"emulator": true, "config": {...}}
      GET    /files/<token>.<ext>  server-tool images (expire after file_ttl seconds)

    Not charged: 4xx/5xx answers. Charged: successes, refusals (small fee),
    mid-stream errors after partials, malformed/truncated bodies, and streams
    a client drops on Google endpoints.
    """
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description=(
            "Offline OpenRouter emulator: a real HTTP server speaking OpenRouter's image API "
            "(discovery, pricing, Image API, Chat Completions, Responses API, the "
            "openrouter:image_generation server tool), drawing real images deterministically."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8765, help="port to bind; 0 picks a free one (default 8765)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds every generation takes (default 0)"
    )
    parser.add_argument(
        "--stream-delay",
        type=float,
        default=0.0,
        help="extra seconds between SSE events (default 0)",
    )
    parser.add_argument(
        "--generation-404-seconds",
        type=float,
        default=1.0,
        help="GET /generation answers 404 this long after a generation finished (default 1)",
    )
    parser.add_argument(
        "--file-ttl",
        type=float,
        default=600.0,
        help="seconds server-tool image URLs stay valid (default 600)",
    )
    parser.add_argument("--verbose", action="store_true", help="log one line per request to stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until interrupted; returns the process exit code."""
    args = build_parser().parse_args(argv)
    server = EmulatorServer(
        args.host,
        args.port,
        latency=args.latency,
        stream_delay=args.stream_delay,
        generation_404_seconds=args.generation_404_seconds,
        file_ttl=args.file_ttl,
        verbose=args.verbose,
    )
    try:
        server.bind()
    except OSError as error:
        print(
            f"OpenRouter emulator: cannot listen on {args.host}:{args.port}: {error}",
            file=sys.stderr,
        )
        return 1
    print(f"OpenRouter emulator listening on {server.url}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.state.stopping.set()
    return 0
