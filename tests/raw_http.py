"""HTTP requests written by hand: a Content-Length the body never follows, raw paths, big bodies."""
from __future__ import annotations

import socket
from urllib.parse import urlsplit


def _connect(base_url: str, timeout: float) -> socket.socket:
    parts = urlsplit(base_url)
    return socket.create_connection((parts.hostname, parts.port), timeout=timeout)


def _status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return int(head.split(b" ", 2)[1])


def status_of_declared_body(base_url: str, path: str, length: int, headers: dict[str, str] | None = None,
                            timeout: float = 10.0) -> int:
    """The status a server answers to headers announcing a `length`-byte body that is never sent.

    An answer at all proves the server judged the request by its Content-Length, unread."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {urlsplit(base_url).netloc}", "Content-Type: application/json",
             f"Content-Length: {length}", *(f"{k}: {v}" for k, v in (headers or {}).items()), "", ""]
    with _connect(base_url, timeout) as sock:
        sock.sendall("\r\n".join(lines).encode())
        return _status(sock)


def post_big_body(base_url: str, path: str, size: int, timeout: float = 30.0) -> int | None:
    """POST `size` bytes (as fast as the server takes them); its status, None if it hung up unanswered."""
    head = (f"POST {path} HTTP/1.1\r\nHost: {urlsplit(base_url).netloc}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {size}\r\n\r\n").encode()
    block = b"x" * (1 << 20)
    with _connect(base_url, timeout) as sock:
        try:
            sock.sendall(head)
            sent = 0
            while sent < size:
                sent += sock.send(block[: min(len(block), size - sent)])
        except OSError:  # the server answered and closed: the rest is refused, as it should be
            pass
        try:
            return _status(sock)
        except (OSError, IndexError, ValueError):
            return None


def status_of_raw_path(base_url: str, raw_path: str, timeout: float = 10.0) -> int:
    """The status of a GET for `raw_path` exactly as written (clients would normalise dot segments)."""
    with _connect(base_url, timeout) as sock:
        sock.sendall(f"GET {raw_path} HTTP/1.1\r\nHost: {urlsplit(base_url).netloc}\r\nConnection: close\r\n\r\n".encode())
        return _status(sock)
