"""Fetching what a stranger points us at: the rules, and the port the imports and webhooks use.

An import URL is untrusted. Only http and https (`check_url`); every address the host resolves
to is checked (`refusal`) unless the operator allows its network. The `Fetcher` that applies
these rules over the network is `http_fetcher.HttpFetcher` (aiohttp); this module holds no
client, so a process that only checks URLs (the API server) never loads one.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from medialib.errors import ItemError
from medialib.media.probe.sniff import Sniffed
from medialib.parsing import whole_number

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

HEAD_BYTES = 4096  # a download's first bytes, kept for sniffing
TAIL_BYTES = 1024  # and its last, kept for checking a file's end


class FetchError(ItemError):
    """A download (or webhook) that did not happen; `code` is the machine-readable reason, and
    `transient` says whether trying again later may succeed."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(code, message)
        self.transient = transient
        self.retry_after = retry_after


# Addresses an import must never reach unless the operator allows them: everything that is not
# plainly on the public internet. Python's `is_global` covers private, loopback, link-local (and
# with it the cloud metadata address 169.254.169.254), shared CGNAT space, reserved, documentation
# and "this network" ranges; multicast is listed because some multicast ranges count as global.
# The lists below hold what `is_global` misses, in some Python releases or in all of them.
_SPECIAL_V4: tuple[tuple[Network, str], ...] = (
    # IETF protocol assignments; Python before 3.11.10 treats most of it as global.
    (ipaddress.ip_network("192.0.0.0/24"), "IETF protocol assignment"),
)
_SPECIAL_V6: tuple[tuple[Network, str], ...] = (
    (ipaddress.ip_network("64:ff9b::/96"), "NAT64"),
    (ipaddress.ip_network("64:ff9b:1::/48"), "NAT64"),
    (ipaddress.ip_network("2002::/16"), "6to4"),
    (ipaddress.ip_network("2001::/32"), "Teredo"),
    (ipaddress.ip_network("fd00:ec2::254/128"), "cloud metadata"),
)


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs)


def refusal(address: Address, allow: tuple[Network, ...] = ()) -> str | None:
    """What kind of address an import may not connect to `address` is, or None when it may."""
    if any(address in network for network in allow):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is not None:
            reason = refusal(mapped, allow)
            return f"IPv4-mapped {reason}" if reason else None
    for network, name in _SPECIAL_V4 if address.version == 4 else _SPECIAL_V6:
        if address in network:
            return f"{name} address"
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved or not address.is_global),
    )
    return next((f"{name} address" for name, hit in checks if hit), None)


_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


def check_url(url: str, *, credentials: bool = False) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL an import may fetch, or FetchError(invalid_url).

    A download's URL is a stranger's and may carry no credentials; a webhook's is the caller's
    own receiver, which may want them (`credentials`): they go as HTTP Basic auth, and are
    shown nowhere (`redact`)."""
    if len(url) > 2048:
        raise FetchError("invalid_url", "the URL is longer than 2048 characters")
    if _CONTROL.search(url):
        # urlsplit drops tabs and line breaks without a word: what is checked, shown and sent
        # would differ (a password shown as "sec\tret" is sent as "secret").
        raise FetchError("invalid_url", "a URL has no control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError("invalid_url", f"not a valid URL: {exc}") from exc
    if not parts.netloc.isascii() or any(ch.isspace() for ch in parts.netloc):
        # The guard must check the host that is connected to: a client library maps some
        # other spellings (full-width digits, "。") onto addresses the guard never saw.
        raise FetchError(
            "invalid_url",
            "a URL's host and credentials are ASCII: an international name in its xn-- form, "
            "other characters %-encoded",
        )
    if parts.username is not None and ":" in unquote(parts.username):
        raise FetchError("invalid_url", "a user name in a URL cannot contain ':'")
    if port == 0:
        raise FetchError("invalid_url", "port 0 is not a port anything can be fetched from")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError("invalid_url", f"only http and https URLs are fetched, not {scheme!r}")
    if not credentials and (parts.username is not None or parts.password is not None):
        raise FetchError("invalid_url", "URLs with credentials are not fetched")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchError("invalid_url", "the URL has no host")
    if _NUMERIC_HOST.match(host) and not _is_dotted_quad(host):
        # 2130706433, 0x7f.1, 0177.0.0.1: legal to some resolvers, refused here (and by aiohttp).
        raise FetchError("invalid_url", f"{host!r} is not a canonical IPv4 address")
    return scheme, host, port or (443 if scheme == "https" else 80)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The userinfo of a URL: from "//" to the last "@" before the path, query or fragment.
_USERINFO = re.compile(r"(?<=//)([^/?#\s]*)@")


def basic_auth(url: str) -> tuple[str, str | None]:
    """A checked URL without its credentials, and the Authorization header they make (RFC
    7617, in UTF-8): the credentials never travel in the URL, and whatever characters they
    %-encode cannot break the client that sends them."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    host = parts.netloc.rpartition("@")[2]
    header = "Basic " + base64.b64encode(pair.encode()).decode()
    return urlunsplit(parts._replace(netloc=host)), header


def redact(text: str) -> str:
    """`text` with the password of every URL in it hidden: `https://user:pw@host/` becomes
    `https://user:***@host/`, so an operator still sees which receiver and which account. A
    user without a password is often a token, so `https://token@host/` becomes
    `https://***@host/`. Every place that shows or logs a webhook URL (or an error that may
    quote one) shows this; the URL itself is read only to send."""
    if "@" not in text:
        return text
    return _USERINFO.sub(_hidden, text)


def _hidden(userinfo: re.Match[str]) -> str:
    user, colon, _ = userinfo.group(1).partition(":")
    return f"{user}:***@" if colon else "***@"


def _is_dotted_quad(host: str) -> bool:
    parts = host.split(".")
    numbers = [whole_number(part, max_digits=3) for part in parts]
    return len(parts) == 4 and all(
        n is not None and str(n) == p and n < 256 for n, p in zip(numbers, parts, strict=True)
    )


def literal_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Download:
    path: Path
    size: int
    sha256: str
    sniffed: Sniffed  # the type its first bytes say it has
    tail: bytes  # its last bytes (some probes read a file's end)


# Called with the type a body's first bytes say it has; returns the most bytes the body may
# have, or raises FetchError to stop the download at once.
LimitFor = Callable[[Sniffed], int]


@dataclass
class FetchPolicy:
    allow: tuple[Network, ...] = ()
    concurrency: int = 32
    per_host: int = 8
    timeout: float = 120.0
    connect_timeout: float = 10.0
    retries: int = 3
    retry_base: float = 0.5
    max_redirects: int = 5


class Fetcher(Protocol):
    """One per process: downloads with the policy's guard, bounds and retries, and POSTs (the
    webhooks: events/delivery.py builds and signs them, the fetcher only sends them, through
    the same guard). Every failure is a FetchError (or a StorageError for our own disk)."""

    async def download(self, url: str, path: Path, limit_for: LimitFor) -> Download:
        """The body at `url` in the file `path`, retried while failures are transient."""
        ...

    async def post(self, url: str, body: bytes, headers: dict[str, str], seconds: float) -> int:
        """POST `body` with `headers` as given and return the status; never follows a redirect
        (a 3xx is an answer). The URL carries no credentials (`basic_auth` makes them a header);
        one that does is refused."""
        ...

    async def close(self) -> None: ...


def remove_quietly(path: Path) -> None:
    path.unlink(missing_ok=True)
