"""A TCP proxy in front of one service that can refuse connections on demand.

The S3-compatible test server keeps its objects in memory, so stopping it to
make storage refuse connections would also throw away every stored image. This
proxy stands in front of it instead: ``refuse()`` closes the listening socket
and resets every open connection (clients get "connection refused", as from a
stopped server), ``restore()`` listens again on the same port. A hung server is
made by pausing the real process (SIGSTOP), not here.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading


class RefusingProxy:
    """Forwards 127.0.0.1:``port`` to 127.0.0.1:``target_port`` until told to refuse."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        listener = self._listen(0)
        self._listener: socket.socket | None = listener
        self.port = int(listener.getsockname()[1])
        self._start_accepting()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def refuse(self) -> None:
        """From now on connections are refused; open ones are reset."""
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._open = self._open, set()
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for connection in connections:
            _reset(connection)

    def restore(self) -> None:
        """Accept and forward connections again, on the same port."""
        with self._lock:
            if self._listener is not None:
                return
            self._listener = self._listen(self.port)
        self._start_accepting()

    def close(self) -> None:
        self.refuse()

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        return listener

    def _start_accepting(self) -> None:
        listener = self._listener
        assert listener is not None
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by refuse()
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                _reset(client)
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                refused = self._listener is not listener
                if not refused:
                    self._open.update((client, upstream))
            if refused:
                for connection in (client, upstream):
                    _reset(connection)
                    connection.close()
                return
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        try:
            while True:
                # A timeout, so that a connection reset by refuse() ends here too.
                readable, _, _ = select.select(list(peers), [], [], 0.5)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    peers[source].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._open.discard(client)
                self._open.discard(upstream)
            client.close()
            upstream.close()


def _reset(connection: socket.socket) -> None:
    """Abort the connection (RST, linger 0), as a server that went away does;
    the shutdown wakes the thread piping it, which then closes it."""
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
