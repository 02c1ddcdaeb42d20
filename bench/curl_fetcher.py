"""A prototype for issue 31: medialib's fetch guard with libcurl (pycurl's multi interface, driven
from asyncio) making each request instead of aiohttp. For bench/http_client.py; not wired into
the worker.

Only the request itself changes (`_get`): the retries, the total deadline, the redirects followed
by hand with every hop checked again (`check_url`, the literal-address check), the global and
per-host bounds and the metrics are `HttpFetcher`'s own, inherited. The guard over libcurl:

- resolve once: a name is resolved by medialib (the same `GuardedResolver`, every address
  checked, all or nothing, answers kept 60 s as aiohttp's connector keeps them) and handed to
  libcurl with CURLOPT_RESOLVE, so libcurl never asks DNS itself;
- connect only to a checked address: CURLOPT_OPENSOCKETFUNCTION refuses any address that is not
  one this request checked (a literal host's own, or its name's answers);
- redirects by hand (CURLOPT_FOLLOWLOCATION off); http and https only (CURLOPT_PROTOCOLS);
  no proxy from the environment (aiohttp trusts none either); no cookie engine, so no cookies;
- byte caps: the write callback counts the decoded body against the cap the body's type gets
  (the sink's own rule, a gzip bomb included) and a declared Content-Length over it is refused
  at the first 4 KB, as with aiohttp. CURLOPT_MAXFILESIZE_LARGE is not set: it must be fixed
  before the transfer, and the cap depends on the type the first bytes show;
- deadlines: CURLOPT_CONNECTTIMEOUT_MS, CURLOPT_TIMEOUT_MS as a backstop, and the inherited
  total deadline (cancelling the transfer removes its handle from the multi).

A body of more than one block (1 MB) is written block by block in a thread as with aiohttp:
while one block is being written and the next is full, the transfer is paused
(CURL_WRITEFUNC_PAUSE) and resumed when the write is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pycurl
import yarl

from medialib.media.fetch import (
    HEAD_BYTES,
    Address,
    Download,
    FetchError,
    FetchPolicy,
    LimitFor,
    check_url,
    literal_address,
)
from medialib.media.http_fetcher import (
    BLOCK,
    CHUNK,
    REDIRECTS,
    USER_AGENT,
    BlockedAddressError,
    GuardedResolver,
    HttpFetcher,
    _raise_for_status,
    _Sink,
)
from medialib.media.storage import StorageError
from medialib.parsing import whole_number

DNS_TTL = 60.0  # as aiohttp's connector keeps answers (http_fetcher.py: ttl_dns_cache)
ACCEPT_ENCODING = "gzip, deflate"  # what aiohttp asks for (and decodes) here


class _PausingSink(_Sink):
    """The aiohttp path's sink, fed from libcurl's write callback, which cannot await: a full
    block goes to a thread at once; while one is being written and the next is full, `accept`
    answers False (pause) and `resume` is called when the write is done."""

    def accept(self, chunk: bytes, resume: Callable[[], None]) -> bool:
        if self.block_size >= BLOCK and not self._write_next(resume):
            return False
        if self.limit is None:
            self.held += chunk
            if len(self.held) < HEAD_BYTES:
                return True
            chunk = self._decide()
        self._take(chunk)
        if self.block_size >= BLOCK:
            self._write_next(resume)
        return True

    def _write_next(self, resume: Callable[[], None]) -> bool:
        if self.writing is not None:
            if not self.writing.done():
                self.writing.add_done_callback(lambda _: resume())
                return False
            self.writing.result()  # the last block's disk error, if any
        loop = asyncio.get_running_loop()
        self.writing = loop.run_in_executor(None, self._write, self._next_block())
        return True


class _Transfer:
    """One request's state, which libcurl's callbacks write into."""

    def __init__(self, curl: pycurl.Curl, path: Path, limit_for: LimitFor) -> None:
        self.curl = curl
        self.path = path
        self.limit_for = limit_for
        self.checked: frozenset[Address] = frozenset()
        self.blocked: str | None = None
        self.headers: list[bytes] = []
        self.status: int | None = None
        self.stopped_for_status = False
        self.sink: _PausingSink | None = None
        self.gathered: list[bytes] = []
        self.gathered_size = 0
        self.error: Exception | None = None
        self.paused = False
        self.live = True

    def read_status(self) -> None:
        """The final response's status and headers: libcurl hands every header line to
        `headers.append` (no Python frame a line), a 1xx's first. pycurl refuses getinfo while
        a transfer runs, so the status is read from its line."""
        for at in range(len(self.headers) - 1, -1, -1):
            if self.headers[at].startswith(b"HTTP/"):
                del self.headers[:at]
                parts = self.headers[0].split()
                code = parts[1].decode("latin-1") if len(parts) > 1 else ""
                self.status = whole_number(code, max_digits=3)
                return

    def on_body(self, data: bytes) -> int | None:
        try:
            if self.status is None:
                self.read_status()
            if self.status in REDIRECTS:
                return None  # a redirect's body is not read
            if self.status is None or not 200 <= self.status < 300:
                self.stopped_for_status = True
                return 0  # stops the transfer; the status says why
            if self.sink is None:  # the first bytes at once: their type may stop the download
                self.sink = self._new_sink()
                return self._fed(data, data)
            # libcurl hands the body over 16 KB at a time; the sink (the cap, the tail, the
            # metric: Python each time) takes it in pieces of up to CHUNK, as from aiohttp.
            self.gathered.append(data)
            self.gathered_size += len(data)
            if self.gathered_size < CHUNK:
                return None
            return self._fed(b"".join(self.gathered), data)
        except Exception as exc:  # FetchError (a cap, a type refused), StorageError
            self.error = exc
            return 0

    def _fed(self, piece: bytes, data: bytes) -> int | None:
        """`piece` (ending with this call's `data`) to the sink, or a pause: then `data` is
        handed over again once the block being written is on disk."""
        assert self.sink is not None
        if not self.sink.accept(piece, self._resume):
            if self.gathered:
                self.gathered.pop()
                self.gathered_size -= len(data)
            self.paused = True
            return pycurl.WRITEFUNC_PAUSE  # type: ignore[no-any-return]
        self.gathered.clear()
        self.gathered_size = 0
        return None

    async def rest(self) -> None:
        """The bytes still gathered, to the sink at the end of the body."""
        if self.sink is not None and self.gathered:
            await self.sink.settle()  # no block in flight: the sink takes them at once
            self.sink.accept(b"".join(self.gathered), self._resume)
            self.gathered.clear()

    def _new_sink(self) -> _PausingSink:
        declared = whole_number(self.header("Content-Length"), max_digits=19)
        return _PausingSink(self.path, self.limit_for, declared)

    def _resume(self) -> None:
        if self.paused and self.live:
            self.paused = False
            self.curl.pause(pycurl.PAUSE_CONT)

    def on_open_socket(self, _purpose: int, address: Any) -> Any:
        """libcurl's connect goes through here: only an address this request checked."""
        family, socktype, protocol, addr = address
        ip = ipaddress.ip_address(addr[0])
        if ip not in self.checked:
            self.blocked = f"libcurl asked to connect to {ip}, an address that was not checked"
            return pycurl.SOCKET_BAD
        return socket.socket(family, socktype, protocol)

    def header(self, name: str) -> str:
        wanted = name.lower().encode() + b":"
        for line in self.headers:
            if line[: len(wanted)].lower() == wanted:
                return line[len(wanted) :].strip().decode("latin-1")
        return ""

    def failure(self, exc: pycurl.error) -> Exception:
        """What a failed transfer is, as the aiohttp path says it."""
        if self.error is not None:
            return self.error
        code, message = exc.args[0], exc.args[1] if len(exc.args) > 1 else ""
        if self.blocked is not None:
            return FetchError("blocked_address", self.blocked)
        if code in (pycurl.E_UNSUPPORTED_PROTOCOL, pycurl.E_URL_MALFORMAT):
            return FetchError("invalid_url", f"not a valid URL: {message}")
        if code in (pycurl.E_COULDNT_CONNECT, pycurl.E_OPERATION_TIMEDOUT) and self.status is None:
            return FetchError("connect_error", f"could not connect: {message}", transient=True)
        return FetchError("connection_error", f"the connection broke: {message}", transient=True)


class CurlFetcher(HttpFetcher):
    """`HttpFetcher` whose requests libcurl makes (see the module's text)."""

    def __init__(self, policy: FetchPolicy, dns: Any = None) -> None:
        super().__init__(policy, dns)
        self._resolver = GuardedResolver(policy.allow, dns)
        self._multi: pycurl.AsyncCurlMulti | None = None
        self._idle: list[pycurl.Curl] = []
        self._answers: dict[tuple[str, int], tuple[float, list[str]]] = {}

    @property
    def multi(self) -> pycurl.AsyncCurlMulti:
        if self._multi is None:
            self._multi = pycurl.AsyncCurlMulti()
            self._multi.setopt(pycurl.M_MAXCONNECTS, self.policy.concurrency * 2)
        return self._multi

    async def close(self) -> None:
        if self._multi is not None:
            await self._multi.aclose()
        for curl in self._idle:
            curl.close()
        self._idle.clear()
        await self._resolver.close()
        await super().close()

    async def _get(self, url: str, path: Path, limit_for: LimitFor) -> Download | str:
        """One request: a Download, or the URL a redirect points to."""
        _, host, port = check_url(url)  # checked by `_follow` already; here for host and port
        curl = self._handle()
        transfer = _Transfer(curl, path, limit_for)
        try:
            await self._aim(curl, transfer, host, port)
        except BaseException:
            self._idle.append(curl)  # it was never added to the multi
            raise
        curl.setopt(pycurl.URL, str(yarl.URL(url)))  # %-encoded as aiohttp sends it
        curl.setopt(pycurl.WRITEFUNCTION, transfer.on_body)
        curl.setopt(pycurl.HEADERFUNCTION, transfer.headers.append)
        curl.setopt(pycurl.OPENSOCKETFUNCTION, transfer.on_open_socket)
        ended = False  # by libcurl, well or not (not cancelled)
        try:
            try:
                await self.multi.perform(curl)
            except pycurl.error as exc:
                ended = True
                if not transfer.stopped_for_status:
                    raise transfer.failure(exc) from exc
            ended = True
        except BaseException:
            if transfer.sink is not None:
                await _closed(transfer.sink)
            raise
        finally:
            transfer.live = False
            # A cancelled handle is still being removed by the multi (on its next turn): it is
            # not handed out again.
            if ended:
                self._idle.append(curl)
            else:
                curl.close()
        return await self._outcome(url, transfer)

    async def _outcome(self, url: str, transfer: _Transfer) -> Download | str:
        transfer.read_status()
        status = transfer.curl.getinfo(pycurl.RESPONSE_CODE)
        if status in REDIRECTS:
            location = transfer.header("Location")
            if not location:
                raise FetchError("http_error", f"HTTP {status} without Location")
            return urljoin(url, location)
        _raise_for_status(status, {"Retry-After": transfer.header("Retry-After")})
        sink = transfer.sink or transfer._new_sink()
        try:
            await transfer.rest()
            await sink.finish()
        finally:
            await _closed(sink)
        assert sink.sniffed is not None  # `finish` decided the type, or raised
        return Download(
            path=transfer.path,
            size=sink.size,
            sha256=sink.digest.hexdigest(),
            sniffed=sink.sniffed,
            tail=sink.tail,
        )

    async def _aim(self, curl: pycurl.Curl, transfer: _Transfer, host: str, port: int) -> None:
        """The addresses this request may connect to, checked; a name's are handed to libcurl."""
        literal = literal_address(host)
        if literal is not None:  # `_follow` checked it; libcurl does not resolve a literal
            transfer.checked = frozenset({literal})
            if curl.resolves:  # a name's addresses, left from the handle's last request
                curl.setopt(pycurl.RESOLVE, [])
                curl.resolves = False
            return
        answers = await self._resolved(host, port)
        transfer.checked = frozenset(ipaddress.ip_address(a) for a in answers)
        listed = ",".join(f"[{a}]" if ":" in a else a for a in answers)
        curl.setopt(pycurl.RESOLVE, [f"{host}:{port}:{listed}"])
        curl.resolves = True

    async def _resolved(self, host: str, port: int) -> list[str]:
        key = (host.lower(), port)
        kept = self._answers.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        try:
            results = await self._resolver.resolve(host, port, socket.AF_UNSPEC)
        except BlockedAddressError as exc:
            raise FetchError("blocked_address", str(exc)) from exc
        except OSError as exc:
            raise FetchError("connect_error", f"could not connect: {exc}", transient=True) from exc
        answers = list(dict.fromkeys(r["host"] for r in results))
        self._answers[key] = (time.monotonic() + DNS_TTL, answers)
        return answers

    def _handle(self) -> pycurl.Curl:
        if self._idle:
            return self._idle.pop()
        curl = pycurl.Curl()
        curl.resolves = False
        web = pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS
        for option, value in (
            (pycurl.NOSIGNAL, 1),
            (pycurl.FOLLOWLOCATION, 0),
            (pycurl.PROTOCOLS, web),
            (pycurl.REDIR_PROTOCOLS, web),
            (pycurl.PROXY, ""),
            (pycurl.NOPROXY, "*"),
            (pycurl.USERAGENT, USER_AGENT),
            (pycurl.ACCEPT_ENCODING, ACCEPT_ENCODING),
            (pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1),
            (pycurl.BUFFERSIZE, CHUNK),
            (pycurl.CONNECTTIMEOUT_MS, round(self.policy.connect_timeout * 1000)),
            (pycurl.TIMEOUT_MS, round(self.policy.timeout * 1000)),
        ):
            curl.setopt(option, value)
        return curl


async def _closed(sink: _Sink) -> None:
    with contextlib.suppress(FetchError, StorageError, OSError):
        await sink.settle()  # the error already on its way says more
    sink.file.close()
