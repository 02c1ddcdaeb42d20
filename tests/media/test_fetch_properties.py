"""The fetch guard's rules and the storage key rule as properties (hypothesis), as pure
functions: no request leaves the machine here."""

from __future__ import annotations

import ipaddress
import string
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from medialib.media.fetch import FetchError, check_url, refusal
from medialib.media.storage import MAX_KEY_LENGTH, is_valid_key

NEVER_GLOBAL = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "64:ff9b::/96",
        "2001::/32",
        "2001:db8::/32",
        "2002::/16",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
]

ipv4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
ipv6 = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)


@st.composite
def inside(draw: st.DrawFn, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> object:
    offset = draw(st.integers(0, network.num_addresses - 1))
    return network.network_address + offset


@given(st.data())
@pytest.mark.parametrize("network", NEVER_GLOBAL, ids=str)
def test_every_address_of_a_non_public_range_is_refused(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network, data: st.DataObject
) -> None:
    address = data.draw(inside(network))

    assert refusal(address) is not None  # type: ignore[arg-type]


@given(ipv4 | ipv6)
def test_an_address_is_let_through_only_when_it_is_public(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    if refusal(address) is None:
        assert address.is_global
        assert not any(address in network for network in NEVER_GLOBAL)


@given(ipv4)
def test_an_ipv4_mapped_address_is_judged_like_the_ipv4_one(address: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")

    assert (refusal(mapped) is None) == (refusal(address) is None)


@given(ipv4 | ipv6)
def test_an_allowed_range_lets_its_own_addresses_through(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    own = ipaddress.ip_network(address)

    assert refusal(address, (own,)) is None


hosts = st.from_regex(r"[a-z][a-z0-9-]{0,15}(\.[a-z][a-z0-9-]{0,15}){0,3}", fullmatch=True)
schemes = st.sampled_from(("http", "https", "HTTP", "ftp", "file", "gopher", "data", "ws", ""))
url_like = st.builds(
    lambda scheme, sep, authority, rest: f"{scheme}{sep}{authority}{rest}",
    schemes,
    st.sampled_from(("://", ":", ":///", "//")),
    st.one_of(
        hosts,
        st.builds(lambda h, p: f"{h}:{p}", hosts, st.integers(-1, 70_000)),
        st.builds(lambda u, h: f"{u}@{h}", st.text(max_size=5), hosts),
        ipv4.map(str),
        ipv6.map(lambda a: f"[{a}]"),
        st.integers(0, 2**32).map(str),
        st.text(max_size=12),
    ),
    st.text(max_size=10),
)


def _checked(url: str) -> tuple[str, str, int] | FetchError:
    try:
        return check_url(url)
    except FetchError as error:
        return error


@given(url_like | st.text(max_size=40))
@example("http://archive.example:0/a.jpg")
@example("https://[::1/")
@example("http://0x7f.1/")
def test_a_url_is_a_fetchable_target_or_invalid_url(url: str) -> None:
    checked = _checked(url)

    if isinstance(checked, FetchError):
        assert checked.code == "invalid_url"
        assert checked.message
        return
    scheme, host, port = checked
    parts = urlsplit(url)
    assert scheme in ("http", "https")
    assert parts.username is None
    assert parts.password is None
    assert host
    assert 1 <= port <= 65535
    default = 443 if scheme == "https" else 80
    assert port == (default if parts.port is None else parts.port)


@given(
    st.sampled_from(("http", "https")),
    st.text(min_size=1, max_size=8).filter(lambda u: not set(u) & set("/?#@[]\\")),
    st.text(max_size=8).filter(lambda p: not set(p) & set("/?#@[]\\")),
    hosts,
)
def test_a_url_with_credentials_is_never_fetched(
    scheme: str, user: str, password: str, host: str
) -> None:
    with pytest.raises(FetchError):
        check_url(f"{scheme}://{user}:{password}@{host}/a.jpg")


KEY_CHARACTERS = set(string.ascii_letters + string.digits + "._-/")
keyish = st.lists(
    st.sampled_from(("a", "b1", "..", ".", "", "x.jpg", "-", "_a", "~", "%2e%2e", "é", "a\\b")),
    max_size=6,
).map("/".join)


@given(keyish | st.text(max_size=30) | st.from_regex(r"[a-z0-9./_-]{1,40}", fullmatch=True))
@example("2026/11/24/a.jpeg\n")  # the rule's `$` matched before a trailing newline
def test_a_valid_key_stays_inside_the_store(key: str) -> None:
    root = Path("/srv/medialib/objects")
    if not is_valid_key(key):
        return

    assert set(key) <= KEY_CHARACTERS  # what URLs and file names carry as they are
    assert len(key) <= MAX_KEY_LENGTH
    assert "" not in key.split("/")
    assert ".." not in key.split("/")
    assert (root / key).resolve().is_relative_to(root)


@given(st.from_regex(r"[A-Za-z0-9]{1,8}(/[A-Za-z0-9][A-Za-z0-9._-]{0,7}){0,5}", fullmatch=True))
def test_a_key_of_plain_segments_is_valid(key: str) -> None:
    # The other side of the property above, so that it cannot pass by refusing everything.
    assert is_valid_key(key)
