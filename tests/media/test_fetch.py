"""The fetch guard's rules as pure functions; its network behaviour is in tests/imports, against
loopback addresses outside the allowed range."""

from __future__ import annotations

import base64
import ipaddress

import pytest

from medialib.media.fetch import FetchError, basic_auth, check_url, redact, refusal
from medialib.media.http_fetcher import BlockedAddressError, GuardedResolver


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback address"),
        ("127.255.255.254", "loopback address"),
        ("10.0.0.1", "private address"),
        ("172.16.5.4", "private address"),
        ("192.168.1.1", "private address"),
        ("169.254.169.254", "link-local address"),  # cloud metadata
        ("100.64.0.1", "reserved address"),  # CGNAT shared space
        ("224.0.0.1", "multicast address"),
        ("239.255.255.250", "multicast address"),
        ("0.0.0.0", "unspecified address"),
        ("255.255.255.255", "private address"),
        ("240.0.0.1", "private address"),  # reserved for future use
        ("192.0.2.10", "private address"),  # documentation
        ("198.18.0.1", "private address"),  # benchmarking
        ("::1", "loopback address"),
        ("::", "unspecified address"),
        ("fe80::1", "link-local address"),
        ("fc00::1", "private address"),
        ("ff02::1", "multicast address"),
        ("::ffff:10.0.0.1", "IPv4-mapped private address"),
        ("::ffff:127.0.0.1", "IPv4-mapped loopback address"),
        ("::ffff:169.254.169.254", "IPv4-mapped link-local address"),
        ("64:ff9b::a00:1", "NAT64 address"),
        ("2002:a00:1::", "6to4 address"),
        ("2001:0:a00:1::", "Teredo address"),
        ("fd00:ec2::254", "cloud metadata address"),
        ("2001:db8::1", "private address"),  # documentation
    ],
)
def test_every_non_public_address_class_is_refused(address: str, kind: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_an_allowed_range_opens_exactly_that_range() -> None:
    allow = (ipaddress.ip_network("10.20.0.0/16"),)

    assert refusal(ipaddress.ip_address("10.20.1.2"), allow) is None
    assert refusal(ipaddress.ip_address("::ffff:10.20.1.2"), allow) is None
    assert refusal(ipaddress.ip_address("10.21.0.1"), allow) == "private address"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://2130706433/a.jpg", "not a canonical IPv4 address"),
        ("http://0x7f000001/a.jpg", "not a canonical IPv4 address"),
        ("http://0177.0.0.1/a.jpg", "not a canonical IPv4 address"),
        ("http://127.1/a.jpg", "not a canonical IPv4 address"),
        ("http://0x7f.0.0.1/a.jpg", "not a canonical IPv4 address"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://x/", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("http://user:secret@archive.example/a.jpg", "credentials"),
        ("http:///a.jpg", "no host"),
        ("http://[::1/a.jpg", "not a valid URL"),
        ("http://archive.example:99999/a.jpg", "not a valid URL"),
        ("http://archive.example/" + "a" * 2100, "longer than 2048"),
        # Spellings a client library maps onto an address the guard never saw (yarl's IDNA
        # turns full-width digits and the ideographic full stop into 127.0.0.2).
        ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff12:8711/a.png", "ASCII"),
        ("http://127\u30020\u30020\u30022/a.png", "ASCII"),
        ("http://\u2460\u2461\u2462.0.0.1/a.png", "ASCII"),
        ("http://b\u00fccher.example/a.png", "ASCII"),  # an IDN goes in its xn-- form
        ("http://archive.example\t/a.jpg", "control characters"),
        ("http://archive.example/a\nb.jpg", "control characters"),
    ],
)
def test_urls_that_are_never_fetched(url: str, problem: str) -> None:
    with pytest.raises(FetchError) as refused:
        check_url(url)

    assert refused.value.code == "invalid_url"
    assert problem in refused.value.message


@pytest.mark.parametrize(
    "url",
    [
        "https://archive.example/a.jpg",
        "http://127.0.0.1:8080/x",
        "http://[::1]/x",
        "HTTP://A.EXAMPLE",
    ],
)
def test_urls_that_pass_the_form_check(url: str) -> None:
    check_url(url)


async def test_the_resolver_refuses_a_name_for_a_refused_address() -> None:
    resolver = GuardedResolver(allow=())

    with pytest.raises(BlockedAddressError, match=r"localhost resolves to .*, a loopback address"):
        await resolver.resolve("localhost", 80)
    await resolver.close()


async def test_the_resolver_hands_over_only_checked_addresses() -> None:
    resolver = GuardedResolver(allow=(ipaddress.ip_network("127.0.0.0/8"),))

    results = await resolver.resolve("localhost", 80)

    assert results
    assert all(ipaddress.ip_address(r["host"]).is_loopback for r in results)
    await resolver.close()


def test_a_webhook_url_may_carry_credentials_a_download_url_never() -> None:
    url = "https://user:secret@cms.example/hook"

    assert check_url(url, credentials=True) == ("https", "cms.example", 443)
    with pytest.raises(FetchError):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://user:sec ret@cms.example/hook",  # shown in full by redact: it stops at spaces
        "http://user:sec\u00a0ret@cms.example/hook",
        "http://user:sec\u2028ret@cms.example/hook",
        "http://user:sec\tret@cms.example/hook",  # urlsplit drops the tab: sent "secret"
        "http://user:PW\u20acSECRET@cms.example/hook",  # not Latin-1: Basic auth broke on it
        "http://a%3Ab:pw@cms.example/hook",  # a ':' in the user name makes the pair ambiguous
    ],
)
def test_webhook_credentials_that_could_not_be_sent_or_hidden_are_refused(url: str) -> None:
    with pytest.raises(FetchError) as refused:
        check_url(url, credentials=True)

    assert refused.value.code == "invalid_url"


@pytest.mark.parametrize(
    ("url", "bare", "pair"),
    [
        ("https://user:secret@cms.example/hook", "https://cms.example/hook", "user:secret"),
        (
            "https://u:PW%E2%82%AC%20x@cms.example:81/h?a=1",
            "https://cms.example:81/h?a=1",
            "u:PW€ x",
        ),
        ("https://token@cms.example/", "https://cms.example/", "token:"),
        ("https://cms.example/hook", "https://cms.example/hook", None),
    ],
)
def test_webhook_credentials_go_as_basic_auth_in_utf8_never_in_the_url(
    url: str, bare: str, pair: str | None
) -> None:
    sent, header = basic_auth(url)

    assert sent == bare
    expected = None if pair is None else "Basic " + base64.b64encode(pair.encode()).decode()
    assert header == expected


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://user:secret@cms.example/hook", "https://user:***@cms.example/hook"),
        ("https://token@cms.example/hook", "https://***@cms.example/hook"),
        ("https://user:p@ss@cms.example/", "https://user:***@cms.example/"),  # a raw @ in it
        ("https://:secret@cms.example/", "https://:***@cms.example/"),
        (
            "could not reach http://a:secret@x.example/h nor https://b:secret@y.example",
            "could not reach http://a:***@x.example/h nor https://b:***@y.example",
        ),
        ("https://cms.example/hook?to=a@b.example", "https://cms.example/hook?to=a@b.example"),
        ("https://cms.example/hook#a@b", "https://cms.example/hook#a@b"),
        ("HTTP 503", "HTTP 503"),
    ],
)
def test_redact_hides_the_password_of_every_url_in_a_text(text: str, shown: str) -> None:
    assert redact(text) == shown
