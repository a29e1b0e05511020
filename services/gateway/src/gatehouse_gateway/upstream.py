"""A small HTTP/1.1 client for the gateway's upstreams: keep-alive connections per service, one
request at a time per connection, bodies streamed both ways.

The gateway only talks to Gatehouse's own services (granian), so it needs one thing from a client:
send a request head (and body) and read back a status, headers and a body framed by
`content-length`, `transfer-encoding: chunked` or the end of the connection. aiohttp's client did
that at ~0.1 ms of CPU per request (request objects, header multidicts, timers, its stream reader);
this does it with asyncio streams and byte operations.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024  # a longer response head is refused (the services send a few hundred bytes)
NO_BODY_STATUSES = frozenset({204, 304})


class UpstreamError(Exception):
    """The service could not be reached or broke the exchange before answering (-> 503)."""


class ProtocolError(UpstreamError):
    pass


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reused = False

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]  # lower-case names
    content_length: int | None
    chunked: bool
    keep_alive: bool
    conn: Connection
    head_request: bool = False
    done: bool = field(default=False)

    @property
    def has_body(self) -> bool:
        return not (self.head_request or self.status in NO_BODY_STATUSES or 100 <= self.status < 200)

    async def read_all(self) -> bytes:
        """The whole body of a response with a known length."""
        if not self.has_body or not self.content_length:
            self.done = True
            return b""
        body = await self.conn.reader.readexactly(self.content_length)
        self.done = True
        return body

    async def iter_body(self, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        reader = self.conn.reader
        if not self.has_body:
            pass
        elif self.chunked:
            while True:
                line = await reader.readuntil(b"\r\n")
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ProtocolError("bad chunk size") from None
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, dropped
                        pass
                    break
                remaining = size
                while remaining:
                    data = await reader.read(min(remaining, chunk_size))
                    if not data:
                        raise asyncio.IncompleteReadError(b"", remaining)
                    remaining -= len(data)
                    yield data
                if await reader.readexactly(2) != b"\r\n":
                    raise ProtocolError("bad chunk end")
        elif self.content_length is not None:
            remaining = self.content_length
            while remaining:
                data = await reader.read(min(remaining, chunk_size))
                if not data:
                    raise asyncio.IncompleteReadError(b"", remaining)
                remaining -= len(data)
                yield data
        else:  # delimited by the end of the connection
            self.keep_alive = False
            while data := await reader.read(chunk_size):
                yield data
        self.done = True


def _parse_head(head: bytes) -> tuple[int, list[tuple[str, str]], int | None, bool, bool]:
    """Status, headers (names lower-cased; decoded once, as latin-1, the way RSGI wants them), length,
    chunked, keep-alive."""
    lines = head[:-4].decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
        raise ProtocolError(f"bad status line {lines[0][:100]!r}")
    try:
        status = int(status_line[1])
    except ValueError:
        raise ProtocolError(f"bad status line {lines[0][:100]!r}") from None
    keep_alive = status_line[0] == "HTTP/1.1"
    headers: list[tuple[str, str]] = []
    content_length: int | None = None
    chunked = False
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError("bad header line")
        name, value = name.lower(), value.strip()
        headers.append((name, value))
        if name == "content-length":
            try:
                content_length = int(value)
            except ValueError:
                raise ProtocolError("bad content-length") from None
        elif name == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif name == "connection":
            token = value.lower()
            if "close" in token:
                keep_alive = False
            elif "keep-alive" in token:
                keep_alive = True
    if chunked:
        content_length = None
    return status, headers, content_length, chunked, keep_alive


class Pool:
    """Keep-alive connections to one service (at most `size` at once)."""

    def __init__(self, base_url: str, size: int, connect_timeout: float) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = parts.scheme == "https"
        self.host_header = parts.netloc.encode("latin-1")
        self.prefix = parts.path.rstrip("/")
        self.connect_timeout = connect_timeout
        self._idle: list[Connection] = []
        self._slots = asyncio.Semaphore(size)

    async def _connect(self) -> Connection:
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, ssl=self.ssl or None, limit=MAX_HEAD
                )
        except TimeoutError:
            raise UpstreamError("connect timeout") from None
        except OSError as exc:
            raise UpstreamError(f"connect failed: {exc!r}") from exc
        return Connection(reader, writer)

    async def acquire(self) -> Connection:
        await self._slots.acquire()
        while self._idle:
            conn = self._idle.pop()
            if not conn.reader.at_eof() and not conn.writer.is_closing():
                conn.reused = True
                return conn
            conn.close()
        try:
            return await self._connect()
        except BaseException:
            self._slots.release()
            raise

    def release(self, conn: Connection, reusable: bool) -> None:
        if reusable and not conn.reader.at_eof() and not conn.writer.is_closing():
            conn.reused = False
            self._idle.append(conn)
        else:
            conn.close()
        self._slots.release()

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()


async def read_response(conn: Connection, head_request: bool) -> Response:
    try:
        head = await conn.reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise ProtocolError("response head too long") from None
    status, headers, content_length, chunked, keep_alive = _parse_head(head)
    return Response(status, headers, content_length, chunked, keep_alive, conn, head_request)
