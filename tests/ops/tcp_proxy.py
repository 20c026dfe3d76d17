"""A TCP proxy the tests can freeze: the database stops answering, its connections stay open.

``freeze()`` stops forwarding in both directions without closing anything: bytes already sent are
held (not delivered) until ``release()``, new connections are accepted but not forwarded. That is what
an app sees of a PostgreSQL server stopped by SIGSTOP or behind a partition that drops packets: the
kernel keeps the sockets, nothing answers. ``close_listener()`` stops accepting (connections refused).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading

from tests.ops.serve import free_port


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.setblocking(False)
        self._frozen = threading.Event()
        self._stop = threading.Event()
        self._pairs: dict[socket.socket, socket.socket] = {}
        self._waiting: list[socket.socket] = []  # accepted while frozen, connected on release
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)
        self._thread.start()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def freeze(self) -> None:
        self._frozen.set()
        self._wake()

    def release(self) -> None:
        self._frozen.clear()
        self._wake()

    def close_listener(self) -> None:
        """Refuse new connections from now on (the existing ones go on)."""
        self.freeze()
        self._selector.unregister(self._listener)
        self._listener.close()
        self.release()

    def close(self) -> None:
        self._stop.set()
        self._wake()
        self._thread.join(timeout=5)
        for sock in [*self._pairs, *self._waiting]:
            sock.close()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
        if self._listener.fileno() != -1:
            self._listener.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.setblocking(False)
        client.setblocking(False)
        self._pairs[client] = upstream
        self._pairs[upstream] = client
        self._selector.register(client, selectors.EVENT_READ)
        self._selector.register(upstream, selectors.EVENT_READ)

    def _drop(self, sock: socket.socket) -> None:
        peer = self._pairs.pop(sock, None)
        for s in (sock, peer):
            if s is None:
                continue
            self._pairs.pop(s, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(s)
            s.close()

    def _accept(self) -> None:
        try:
            client, _addr = self._listener.accept()
        except OSError:
            return
        if self._frozen.is_set():
            self._waiting.append(client)  # accepted, never forwarded while frozen
        else:
            self._connect(client)

    def _run(self) -> None:
        frozen_selector = selectors.DefaultSelector()
        frozen_selector.register(self._wake_r, selectors.EVENT_READ)
        frozen_selector.register(self._listener, selectors.EVENT_READ)
        while not self._stop.is_set():
            if self._frozen.is_set():
                # Connections' data is not read: it stays in the kernel's buffers until release().
                for key, _ in frozen_selector.select(timeout=0.2):
                    if key.fileobj is self._wake_r:
                        self._wake_r.recv(4096)
                    elif self._listener.fileno() != -1:
                        self._accept()
                continue
            if self._waiting:
                waiting, self._waiting = self._waiting, []
                for client in waiting:
                    self._connect(client)
            for key, _ in self._selector.select(timeout=0.2):
                sock = key.fileobj
                if sock is self._wake_r:
                    self._wake_r.recv(4096)
                    continue
                if sock is self._listener:
                    self._accept()
                    continue
                if self._frozen.is_set():
                    break
                self._forward(sock)  # type: ignore[arg-type]
        frozen_selector.close()

    def _forward(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        peer = self._pairs.get(sock)
        if not data or peer is None:
            self._drop(sock)
            return
        try:
            peer.setblocking(True)
            peer.sendall(data)
            peer.setblocking(False)
        except OSError:
            self._drop(sock)
