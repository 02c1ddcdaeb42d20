"""The `Fetcher` over the network, with aiohttp: the rules of `fetch.py`, applied.

The host is resolved once and every address is checked; the connection goes to the checked
addresses (the resolver aiohttp connects with is the guard itself); redirects are followed by
hand, each hop checked again; bodies are streamed to a file with a byte cap and a total
deadline; transient failures are retried with backoff and jitter; concurrency is bounded
globally and per origin host. Only processes that fetch load this module (and aiohttp).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import ipaddress
import random
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from medialib import __version__, metrics
from medialib.media.fetch import (
    HEAD_BYTES,
    TAIL_BYTES,
    Download,
    FetchError,
    FetchPolicy,
    LimitFor,
    Network,
    check_url,
    literal_address,
    refusal,
)
from medialib.media.probe.sniff import Sniffed, sniff
from medialib.media.storage import StorageError

T = TypeVar("T")
USER_AGENT = f"medialib/{__version__} (media import)"
CHUNK = 256 * 1024
BLOCK = 1024 * 1024  # hashed and written at once; a larger body's blocks go to a thread
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_RETRY_AFTER = 60.0


class BlockedAddressError(OSError):
    """Raised inside aiohttp's connect, so that it never opens the connection."""


class GuardedResolver(AbstractResolver):
    """Resolves once and hands aiohttp only addresses the policy allows (all or nothing)."""

    def __init__(self, allow: tuple[Network, ...], inner: AbstractResolver | None = None) -> None:
        self.allow = allow
        self._inner = inner or aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            reason = refusal(ipaddress.ip_address(result["host"]), self.allow)
            if reason:
                raise BlockedAddressError(f"{host} resolves to {result['host']}, a {reason}")
        return results

    async def close(self) -> None:
        await self._inner.close()


class HttpFetcher:
    """One per process: an aiohttp session behind the guard, and the concurrency bounds."""

    def __init__(self, policy: FetchPolicy, dns: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._dns = dns  # the system's resolver unless given (tests script DNS answers)
        self._session: aiohttp.ClientSession | None = None
        self._global = asyncio.Semaphore(policy.concurrency)
        self._hosts: dict[tuple[str, str, int], asyncio.Semaphore] = {}

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self.policy.allow, self._dns),
                limit=self.policy.concurrency * 2,
                ttl_dns_cache=60,
                enable_cleanup_closed=True,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": USER_AGENT},
                # No cookies: one item's origin must not hand state to the next request (another
                # project's, perhaps) to the same host; and keeping none costs nothing per request.
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.policy.connect_timeout),
                max_line_size=16 * 1024,
                max_field_size=16 * 1024,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, url: str, body: bytes, headers: dict[str, str], seconds: float) -> int:
        """POST `body` with `headers` as given and return the status; never follows a redirect
        (a 3xx is an answer). The URL carries no credentials: the caller makes them headers."""
        _, host, _ = check_url(url)
        self._check_literal(host)
        try:
            async with (
                asyncio.timeout(seconds),
                _client_errors_translated(),
                self.session.post(
                    url, data=body, headers=headers, allow_redirects=False
                ) as response,
            ):
                return response.status
        except TimeoutError as exc:
            raise FetchError("timeout", f"no answer within {seconds:g}s", transient=True) from exc

    def _host_gate(self, scheme: str, host: str, port: int) -> asyncio.Semaphore:
        key = (scheme, host.lower(), port)
        gate = self._hosts.get(key)
        if gate is None:
            gate = self._hosts[key] = asyncio.Semaphore(self.policy.per_host)
        return gate

    async def download(self, url: str, path: Path, limit_for: LimitFor) -> Download:
        """The body at `url` in the file `path`, retried while failures are transient."""
        attempt = 0
        while True:
            try:
                async with self._global:
                    return await _timed(self._download_once(url, path, limit_for))
            except FetchError as error:
                if not error.transient or attempt >= self.policy.retries:
                    raise
                delay = error.retry_after or self._backoff(attempt)
                attempt += 1
                await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        base: float = self.policy.retry_base * 2.0**attempt
        return base / 2 + random.uniform(0, base / 2)  # noqa: S311 (jitter, not a secret)

    async def _download_once(self, url: str, path: Path, limit_for: LimitFor) -> Download:
        try:
            async with asyncio.timeout(self.policy.timeout):
                return await self._follow(url, path, limit_for)
        except TimeoutError as exc:
            raise FetchError(
                "timeout", f"the download took longer than {self.policy.timeout:g}s", transient=True
            ) from exc

    async def _follow(self, url: str, path: Path, limit_for: LimitFor) -> Download:
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            scheme, host, port = check_url(current)
            self._check_literal(host)
            async with self._host_gate(scheme, host, port):
                outcome = await self._get(current, path, limit_for)
            if isinstance(outcome, Download):
                return outcome
            current = outcome
        raise FetchError("too_many_redirects", f"more than {self.policy.max_redirects} redirects")

    def _check_literal(self, host: str) -> None:
        address = literal_address(host)
        if address is not None and (reason := refusal(address, self.policy.allow)):
            raise FetchError("blocked_address", f"{host} is a {reason}")

    async def _get(self, url: str, path: Path, limit_for: LimitFor) -> Download | str:
        """One request: a Download, or the URL a redirect points to."""
        async with (
            _client_errors_translated(),
            self.session.get(url, allow_redirects=False) as response,
        ):
            if response.status in REDIRECTS:
                location = response.headers.get("Location")
                if not location:
                    raise FetchError("http_error", f"HTTP {response.status} without Location")
                return urljoin(url, location)
            _raise_for_status(response.status, response.headers)
            return await _save(response, path, limit_for)


@contextlib.asynccontextmanager
async def _client_errors_translated() -> AsyncIterator[None]:
    """aiohttp's errors (and the guard's refusal inside them) as FetchErrors, at the boundary."""
    try:
        yield
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, BlockedAddressError):
            raise FetchError("blocked_address", str(exc.os_error)) from exc
        raise FetchError(
            "connect_error", f"could not connect: {exc.os_error}", transient=True
        ) from exc
    except aiohttp.InvalidURL as exc:
        raise FetchError("invalid_url", f"not a valid URL: {exc}") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise FetchError(
            "connection_error", f"the connection broke: {exc}", transient=True
        ) from exc


def _raise_for_status(status: int, headers: Any) -> None:
    if 200 <= status < 300:
        return
    transient = status in (408, 425, 429) or status >= 500
    raise FetchError(
        f"http_{status}",
        f"the server answered HTTP {status}",
        transient=transient,
        retry_after=_retry_after(headers.get("Retry-After", "")),
    )


def _retry_after(header: str) -> float | None:
    """The seconds an archive asks us to wait, at most MAX_RETRY_AFTER: ASCII digits only
    ('²' passes `str.isdigit` and fails `float`); an HTTP date is not read."""
    text = header.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    return min(float(text), MAX_RETRY_AFTER)  # float reads any length; int stops at 4300 digits


class _Sink:
    """The file a body streams into, with its hash, its first and last bytes and its cap.

    The first HEAD_BYTES are held back until the type (and with it the cap) is known, so a body
    that lies about its type stops after a few KB. Bytes are gathered into blocks of BLOCK: a
    small body is hashed and written in one go at its end, on the event loop (a thread hop
    would cost more than the work); a large one block by block in a thread, while the next
    block arrives (hashing and writing release the GIL, so the download runs on two cores).
    """

    def __init__(self, path: Path, limit_for: LimitFor, declared: int | None) -> None:
        # A buffer size of our own: Python then skips asking whether the file is a terminal
        # and what its block size is (two system calls per download).
        self.file = _local(path.open, "wb", io.DEFAULT_BUFFER_SIZE)
        self.limit_for = limit_for
        self.declared = declared
        self.digest = hashlib.sha256()
        self.held = bytearray()
        self.sniffed: Sniffed | None = None
        self.tail = b""
        self.size = 0
        self.limit: int | None = None
        self.block: list[bytes] = []
        self.block_size = 0
        self.writing: asyncio.Future[None] | None = None

    async def feed(self, chunk: bytes) -> None:
        if self.limit is None:
            self.held += chunk
            if len(self.held) < HEAD_BYTES:
                return
            chunk = self._decide()
        self._take(chunk)
        if self.block_size >= BLOCK:
            await self._hand_off()

    async def finish(self) -> None:
        if self.limit is None:
            if not self.held:
                raise FetchError("empty_body", "the body is empty")
            self._take(self._decide())
        if self.writing is None:
            self._write(self._next_block())  # small: at once, here
        else:
            await self._hand_off()
            await self.settle()
        _local(self.file.close)  # the last buffered bytes reach the disk here

    async def settle(self) -> None:
        """Wait for the block being written, if any."""
        writing, self.writing = self.writing, None
        if writing is not None:
            await writing

    def _decide(self) -> bytes:
        held, self.held = bytes(self.held), bytearray()
        self.sniffed = sniff(held[:HEAD_BYTES])
        self.limit = self.limit_for(self.sniffed)
        if self.declared is not None and self.declared > self.limit:
            raise FetchError(
                "too_large", f"the body is {self.declared} bytes, more than {self.limit}"
            )
        return held

    def _take(self, chunk: bytes) -> None:
        assert self.limit is not None
        self.size += len(chunk)
        metrics.FETCH_BYTES.inc(len(chunk))
        if self.size > self.limit:
            raise FetchError("too_large", f"the body is larger than {self.limit} bytes")
        self.block.append(chunk)
        self.block_size += len(chunk)
        if len(chunk) >= TAIL_BYTES:
            self.tail = chunk[-TAIL_BYTES:]
        else:
            self.tail = (self.tail + chunk)[-TAIL_BYTES:]

    async def _hand_off(self) -> None:
        await self.settle()  # one block in flight at most: memory stays at two blocks
        block = self._next_block()
        self.writing = asyncio.get_running_loop().run_in_executor(None, self._write, block)

    def _next_block(self) -> bytes:
        block, self.block, self.block_size = b"".join(self.block), [], 0
        return block

    def _write(self, block: bytes) -> None:
        self.digest.update(block)
        _local(self.file.write, block)


async def _timed(download: Awaitable[Download]) -> Download:
    """A download attempt, its seconds observed by outcome."""
    started = time.perf_counter()
    outcome = "failed"
    try:
        done = await download
        outcome = "ok"
        return done
    finally:
        metrics.FETCH_DURATION.labels(outcome).observe(time.perf_counter() - started)


def _local(operation: Callable[..., T], *args: Any) -> T:
    """A file operation on our own disk: its failure (a full disk) is not the origin's fault."""
    try:
        return operation(*args)
    except OSError as exc:
        raise StorageError(f"writing a download to disk failed: {exc}") from exc


async def _save(response: aiohttp.ClientResponse, path: Path, limit_for: LimitFor) -> Download:
    sink = _Sink(path, limit_for, response.content_length)
    try:
        async for chunk in response.content.iter_chunked(CHUNK):
            await sink.feed(chunk)
        await sink.finish()
    finally:
        with contextlib.suppress(Exception):  # the error already on its way says more
            await sink.settle()
        with contextlib.suppress(OSError):
            sink.file.close()
    assert sink.sniffed is not None  # `finish` decided the type, or raised
    return Download(
        path=path,
        size=sink.size,
        sha256=sink.digest.hexdigest(),
        sniffed=sink.sniffed,
        tail=sink.tail,
    )
