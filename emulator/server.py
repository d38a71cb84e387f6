"""The HTTP layer: routing, auth, JSON and SSE framing, and ``EmulatorServer``."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import chat, generate, routes, tool
from .errors import ApiError, unauthorized
from .state import Config, State
from .transport import ClientGone

BASE = "/api/v1"
CONTROL = f"{BASE}/__emulator__"
MAX_BODY = 64 * 1024 * 1024
GENERATION_ROUTES = {
    f"{BASE}/images": generate.images,
    f"{BASE}/chat/completions": routes.chat,
    f"{BASE}/responses": routes.responses,
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True
    state: State
    verbose: bool


class _Server6(_Server):
    address_family = socket.AF_INET6


class Handler(BaseHTTPRequestHandler):
    """One connection; ``protocol_version`` HTTP/1.1 keeps it alive between requests."""

    protocol_version = "HTTP/1.1"
    server_version = "OpenRouterEmulator/1.0"
    timeout = 300  # an idle kept-alive connection frees its thread after this long
    # The headers and the body go out as two writes: with Nagle's algorithm the
    # body waited for the client's delayed ACK of the headers, 40 ms an answer.
    disable_nagle_algorithm = True
    server: _Server

    # plumbing

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"emulator: {self.address_string()} {format % args}\n")

    @property
    def state(self) -> State:
        return self.server.state

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (
            BrokenPipeError,
            ConnectionResetError,
            ConnectionAbortedError,
            TimeoutError,
        ) as error:
            self.close_connection = True
            raise ClientGone from error

    def _head(
        self,
        status: int,
        content_type: str,
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(body).encode(), "application/json", headers)

    def send_bytes(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self._head(status, content_type, headers, len(data))
        self._write(data)

    def send_truncated(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self._head(status, content_type, headers, len(data))
        self.close_connection = True
        self._write(data[: len(data) // 2])
        self._drop()

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # SSE over chunked transfer encoding

    _raw = b""
    _streaming = False
    _events = 0
    _stream_delay = 0.0

    def start_sse(
        self, stream_delay: float | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self._streaming = True
        self._events = 0
        configured = self.state.settings().stream_delay
        self._stream_delay = configured if stream_delay is None else stream_delay
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self._write(b"")

    def _chunk(self, data: bytes) -> None:
        self._write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def sse(self, payload: Any, *, event: str | None = None) -> None:
        if self._events and self._stream_delay:
            self.wait(self._stream_delay)
        self._events += 1
        text = payload if isinstance(payload, str) else json.dumps(payload)
        prefix = f"event: {event}\n" if event else ""
        self._chunk(f"{prefix}data: {text}\n\n".encode())

    def sse_comment(self, text: str) -> None:
        self._chunk(f": {text}\n\n".encode())

    def sse_cut(self, payload: Any) -> None:
        line = f"data: {json.dumps(payload)}"
        half = line[: len(line) // 2].encode()
        # Announce the whole event's chunk, send half of it, and hang up.
        self._write(f"{len(line) + 2:x}\r\n".encode() + half)
        self._drop()

    def end_sse(self) -> None:
        self._write(b"0\r\n\r\n")
        self._streaming = False

    def wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        stopping = self.state.stopping
        if not self._streaming:
            stopping.wait(seconds)
            return
        interval = max(0.05, self.state.settings().keepalive_interval)
        remaining = seconds
        while remaining > 0 and not stopping.is_set():
            step = min(interval, remaining)
            stopping.wait(step)
            remaining -= step
            if remaining > 0:
                self.sse_comment("OPENROUTER PROCESSING")

    # requests

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                total += size
                if total > MAX_BODY:
                    raise ApiError(413, "Request entity too large.")
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "Request entity too large.")
        return self.rfile.read(length) if length else b""

    def _json_body(self) -> dict[str, Any]:
        raw = self._raw
        try:
            body = json.loads(raw or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(400, "Invalid JSON in request body") from None
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object")
        return body

    def _authorized(self) -> None:
        scheme, _, key = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise unauthorized()
        if key.strip().startswith("sk-or-v1-bad"):
            raise unauthorized("User not found.")

    def _origin(self) -> str:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return f"http://{host}"

    def _dispatch(self, method: str) -> None:
        self._streaming = False
        self._raw = b""
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            # Read the whole body first: an unread body would corrupt the kept-alive connection.
            self._raw = self._read_body()
            if method == "POST" and path in GENERATION_ROUTES:
                self._generation(path)
            elif path.startswith(CONTROL):
                self._control(method, path[len(CONTROL) :], query)
            elif path.startswith(BASE):
                self._api(method, path[len(BASE) :], query)
            else:
                raise ApiError(404, f"Not found: {path}")
        except ApiError as error:
            if self._streaming:
                self._drop()
            else:
                self.send_json(error.status, error.body(), error.headers)
        except ClientGone:
            self.close_connection = True
        except Exception:
            # The boundary of the server: a bug answers a real-shaped 500, with its traceback logged.
            traceback.print_exc()
            if self._streaming:
                self._drop()
            else:
                bug = ApiError(500, "Internal Server Error (emulator bug)")
                with contextlib.suppress(ClientGone):
                    self.send_json(500, bug.body())

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _generation(self, path: str) -> None:
        self._authorized()
        body = self._json_body()
        route = path[len(BASE) :]
        prompt = body.get("prompt") if route == "/images" else None
        if not isinstance(prompt, str):
            prompt = _best_prompt(body)
        tag = self.headers.get("X-Emulator-Tag")
        entry = self.state.log_request(route, str(body.get("model", "")), tag, prompt)
        status = 500
        try:
            ctx = generate.Context(self.state, self, body, tag, self._origin(), route)
            status = GENERATION_ROUTES[path](ctx)
        except ApiError as error:
            status = error.status
            raise
        finally:
            self.state.finish_request(entry, status)

    def _api(self, method: str, path: str, query: dict[str, str]) -> None:
        catalog = self.state.catalog
        if method != "GET":
            raise ApiError(405, f"{method} {BASE}{path} is not allowed")
        if path == "/images/models":
            self.send_json(200, catalog.images_models())
        elif path.startswith("/images/models/") and path.endswith("/endpoints"):
            model_id = path[len("/images/models/") : -len("/endpoints")]
            self.send_json(200, catalog.endpoints_document(model_id))
        elif path == "/models":
            self.send_json(200, self._models(query))
        elif path == "/generation":
            self._authorized()
            record = self.state.generation(query.get("id", ""))
            if record is None:
                raise ApiError(404, f"Generation {query.get('id', '')} not found")
            self.send_json(200, record.document())
        elif path == "/key":
            self._authorized()
            self.send_json(200, self._key())
        elif path == "/credits":
            self._authorized()
            raise ApiError(403, "Only management keys can fetch credits")
        else:
            raise ApiError(404, f"Not found: {BASE}{path}")

    def _models(self, query: dict[str, str]) -> dict[str, Any]:
        wanted = {m.strip() for m in query.get("output_modalities", "text").split(",") if m.strip()}
        entries = self.state.catalog.models_list(wanted or {"text"})
        if "limit" not in query and "offset" not in query:
            return {"data": entries}
        try:
            offset = int(query.get("offset", "0"))
            limit = int(query.get("limit", str(len(entries) or 1)))
        except ValueError:
            raise ApiError(400, "offset and limit must be integers") from None
        if offset < 0 or not 1 <= limit <= 1000:
            raise ApiError(400, "offset must be >= 0 and limit between 1 and 1000")
        page = entries[offset : offset + limit]
        following = offset + limit
        next_link = None
        if following < len(entries):
            modalities = query.get("output_modalities", "text")
            next_link = f"{self._origin()}{BASE}/models?output_modalities={modalities}&offset={following}&limit={limit}"
        return {"data": page, "total_count": len(entries), "links": {"next": next_link}}

    def _key(self) -> dict[str, Any]:
        usage = self.state.usage()
        limit = self.state.settings().key_limit
        return {
            "data": {
                "label": "sk-or-v1-emu...ator",
                "usage": float(usage),
                "usage_daily": float(usage),
                "usage_weekly": float(usage),
                "usage_monthly": float(usage),
                "limit": limit,
                "limit_remaining": None if limit is None else max(0.0, limit - float(usage)),
                "limit_reset": None,
                "is_free_tier": False,
                "is_provisioning_key": False,
                "rate_limit": {"requests": -1, "interval": "10s"},
            }
        }

    def _control(self, method: str, path: str, query: dict[str, str]) -> None:
        state = self.state
        tag = query.get("tag")
        if path == "/ledger" and method == "GET":
            self.send_json(200, state.ledger_report(tag))
        elif path == "/ledger" and method == "DELETE":
            state.clear_ledger()
            self.send_json(200, {"ok": True})
        elif path == "/requests" and method == "GET":
            self.send_json(200, state.request_report(tag))
        elif path == "/config" and method == "GET":
            self.send_json(200, _config_dict(state.settings()))
        elif path == "/config" and method == "POST":
            self.send_json(200, state.update_config(self._json_body()))
        elif path == "/catalog" and method == "GET":
            self.send_json(200, state.catalog.raw())
        elif path == "/catalog" and method == "POST":
            self.send_json(200, state.catalog.apply(self._json_body()))
        elif path == "/reset" and method == "POST":
            state.reset()
            self.send_json(200, {"ok": True})
        elif path == "/status" and method == "GET":
            self.send_json(200, {"emulator": True, "config": _config_dict(state.settings())})
        elif path.startswith("/files/") and method == "GET":
            stored = state.get_file(path[len("/files/") :])
            if stored is None:
                raise ApiError(404, "File not found or expired")
            self.send_bytes(200, stored.data, stored.media_type)
        else:
            raise ApiError(404, f"Not found: {CONTROL}{path}")


def _config_dict(config: Config) -> dict[str, Any]:
    return {
        "latency": config.latency,
        "stream_delay": config.stream_delay,
        "generation_404_seconds": config.generation_404_seconds,
        "file_ttl": config.file_ttl,
        "keepalive_interval": config.keepalive_interval,
        "key_limit": config.key_limit,
    }


def _best_prompt(body: dict[str, Any]) -> str:
    """The last user text of a chat or responses body, for the request log."""
    try:
        source = body.get("messages") if "messages" in body else body.get("input")
        if isinstance(source, str):
            return source
        conversation = (
            chat._read_messages(source) if "messages" in body else tool._read_input(source)
        )
        return conversation.last_user
    except ApiError:
        return ""


class EmulatorServer:
    """The emulator on a background thread.

    ``EmulatorServer(port=0).start()`` binds a free port; ``url`` is the API
    base (``http://127.0.0.1:PORT/api/v1``); ``stop()`` shuts it down and makes
    sleeping requests return early. Also a context manager.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency: float = 0.0,
        stream_delay: float = 0.0,
        generation_404_seconds: float = 1.0,
        file_ttl: float = 600.0,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.verbose = verbose
        self.state = State(
            Config(
                latency=latency,
                stream_delay=stream_delay,
                generation_404_seconds=generation_404_seconds,
                file_ttl=file_ttl,
            )
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("EmulatorServer is not started")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self._server.server_address[1]}{BASE}"

    @property
    def origin(self) -> str:
        return self.url[: -len(BASE)]

    def bind(self) -> _Server:
        if self._server is None:
            server_class: type[_Server] = _Server6 if ":" in self.host else _Server
            server = server_class((self.host, self.port), Handler)
            server.state = self.state
            server.verbose = self.verbose
            self._server = server
        return self._server

    def start(self) -> EmulatorServer:
        server = self.bind()
        self.state.stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, name="openrouter-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until ``stop()`` or KeyboardInterrupt."""
        server = self.bind()
        try:
            server.serve_forever()
        finally:
            server.server_close()

    def stop(self) -> None:
        self.state.stopping.set()
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=5)
            self._server.server_close()
        self._server = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
