"""The whole surface tried as an attacker would (trust issue): two projects on one server, the
attacker holding a token of its own, a signed-in web session of its own, and everything a
webhook receiver of the victim's project sees. Each surface has a catalogue of hostile requests;
every one must get an answer of the kinds it lists (never a 5xx), and afterwards the victim's
library is exactly as it was and the server answers.

`python -m tests.security.test_attack_surface` prints how many cases each surface has.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support import media
from tests.support.entries import image_asset, image_entry, new_key, stored_image
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.sessions import sign_in
from tests.support.stack import Stack

V = "2026-05"
API = f"/api/{V}"
REFUSED = frozenset({400, 401, 403, 404, 405, 409, 410, 413, 415, 416, 422, 429, 431})
ISOLATED = frozenset({404})
HARMLESS = frozenset({200, 204, 303}) | REFUSED


@dataclass
class World:
    """What the attack has to work with."""

    stack: Stack
    victim: str
    entry: dict[str, Any]
    revoked: dict[str, Any]
    job: str
    upload_key: str
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return str(self.entry["asset"]["key"])

    @property
    def revoked_key(self) -> str:
        return str(self.revoked["asset"]["key"])


@dataclass(frozen=True)
class Case:
    surface: str
    name: str
    method: str
    path: str  # may name {entry}, {revoked}, {key}, {revoked_key}, {job}, {upload_key}
    who: str = "attacker"  # a client of World.clients
    allowed: frozenset[int] = REFUSED
    json: Any = None
    content: bytes | None = None
    data: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    with_csrf: bool = False  # send the client's own session CSRF token in the form

    def url(self, world: World) -> str:
        return self.path.format(
            entry=world.entry["id"],
            revoked=world.revoked["id"],
            key=world.key,
            revoked_key=world.revoked_key,
            job=world.job,
            upload_key=world.upload_key,
        )


def _isolation() -> list[Case]:
    """The attacker's token asks for the victim's things: all of them 404, as if absent."""
    s = "isolation"
    paths = [
        ("GET", API + "/mediaLibrary/{entry}"),
        ("GET", API + "/mediaLibrary/{entry}/keys"),
        ("GET", API + "/mediaLibrary/{entry}/usageLog"),
        ("GET", API + "/mediaLibrary/{entry}/incomingDocumentReferences"),
        ("GET", "/api/2025-11/mediaLibrary/{entry}/incomingDocumentReferences"),
        ("GET", API + "/mediaLibrary/{entry}/incomingMediaReferences"),
        ("GET", "/api/2025-11/mediaLibrary/{entry}/incomingMediaReferences"),
        ("GET", API + "/mediaLibrary/serve-image/{key}"),
        ("GET", API + "/mediaLibrary/serve-image/{revoked_key}"),
        ("DELETE", API + "/mediaLibrary/{entry}"),
        ("GET", API + "/import/images/status?id={job}"),
        ("GET", API + "/import/files/status?id={job}"),
        ("GET", API + "/import/videos/status?id={job}"),
        ("POST", API + "/import/jobs/{job}/cancel"),
    ]
    cases = [Case(s, f"{m} {p}", m, p, allowed=ISOLATED) for m, p in paths]
    for version in ("v1", "2025-03", "2025-11", "2026-03", "2026-07"):
        cases.append(
            Case(
                s,
                f"entry in {version}",
                "GET",
                f"/api/{version}/mediaLibrary/{{entry}}",
                allowed=ISOLATED,
            )
        )
    patches: list[Any] = [
        {"patches": [{"operation": "revokeAsset"}]},
        {"patches": [{"operation": "archive"}]},
        {"patches": [{"operation": "setMetadataProperty", "propertyName": "title", "value": "x"}]},
        {"patches": [{"operation": "unrevokeAsset"}]},
        {"patches": [{"operation": "addUsageLogEntry", "value": {"purpose": "print"}}]},
        {"patches": [{"operation": "removeUsageLogEntry", "usageLogEntryId": "AAAAAAAAAAAA"}]},
    ]
    cases += [
        Case(
            s,
            f"patch {p['patches'][0]['operation']}",
            "PATCH",
            API + "/mediaLibrary/{revoked}",
            json=p,
            allowed=ISOLATED,
        )
        for p in patches
    ]
    # Lists and searches show the attacker's own project only: answered, never the victim's.
    for query in (
        "ids={entry}",
        "ids={entry},{revoked}",
        "systemName=archive&externalId=x",
        "q=victim",
    ):
        cases.append(
            Case(
                s, f"list {query}", "GET", API + f"/mediaLibrary?{query}", allowed=frozenset({200})
            )
        )
    cases += [
        Case(s, "jobs list", "GET", API + "/import/jobs", allowed=frozenset({200})),
        Case(s, "deliveries list", "GET", API + "/events/deliveries", allowed=frozenset({200})),
    ]
    # Registering or replacing with the victim's objects: as if they did not exist.
    for key in ("{key}", "{revoked_key}", "{upload_key}"):
        cases.append(
            Case(
                s,
                f"register {key}",
                "POST",
                API + "/import/mediaLibrary",
                json={"mediaLibraryEntries": [image_entry(key)]},
                allowed=frozenset({200}),
            )
        )
        cases.append(
            Case(
                s,
                f"register shared {key}",
                "POST",
                API + "/import/mediaLibrary",
                json={
                    "mediaLibraryEntries": [
                        image_entry(key) | {"asset": image_asset(key) | {"shared": True}}
                    ]
                },
                allowed=frozenset({200}),
            )
        )
    cases.append(
        Case(
            s,
            "web: victim's entry",
            "GET",
            "/ui/entries/{entry}",
            who="attacker_web",
            allowed=ISOLATED,
        )
    )
    cases.append(
        Case(
            s,
            "web: victim's original",
            "GET",
            "/ui/entries/{entry}/original",
            who="attacker_web",
            allowed=ISOLATED,
        )
    )
    cases.append(
        Case(s, "web: victim's job", "GET", "/ui/jobs/{job}", who="attacker_web", allowed=ISOLATED)
    )
    for action in ("archive", "revoke", "unrevoke", "delete", "metadata"):
        cases.append(
            Case(
                s,
                f"web: {action} victim's entry",
                "POST",
                f"/ui/entries/{{entry}}/{action}",
                who="attacker_web",
                with_csrf=True,
                data={"title": "x"},
                allowed=ISOLATED,
            )
        )
    for action in ("cancel", "retry"):
        cases.append(
            Case(
                s,
                f"web: {action} victim's job",
                "POST",
                f"/ui/jobs/{{job}}/{action}",
                who="attacker_web",
                with_csrf=True,
                allowed=ISOLATED,
            )
        )
    return cases


def _web() -> list[Case]:
    s = "web view"
    cookies = [
        "",
        "x",
        "a.b.c.d",
        "demo.tok.99999999999.sig",
        "é.é.1.é",
        "a.b.²³.c",
        "a.b.-1.c",
        "a." * 2000 + "b",
        "pool-00.x.2000000000." + "0" * 64,
        "\x00",
        "a.b.1e9.c",
    ]
    cases = [
        Case(
            s,
            f"forged cookie {i}",
            "GET",
            "/ui/library",
            who="anonymous",
            headers={"Cookie": f"medialib_session={quote(c, safe='')}"},
            allowed=frozenset({303}),
        )
        for i, c in enumerate(cookies)
    ]
    queries = [
        "cursor=%C2%B2",
        "cursor=AAAA",
        "cursor=" + "A" * 5000,
        "q=%00",
        "q=" + "a" * 600,
        "q=%22",
        "q=NEAR(a b)",
        "q=a*",
        "q=-",
        "q=%E2%80%AE",
        "mediaType=%00",
        "revoked=maybe",
        "archived=%C2%B2",
        "system=" + "s" * 300,
        "createdAfter=9999-12-31T23:59:59.999999Z",
        "createdAfter=0001-01-01T00:00:00%2B14:00",
        "limit=-1",
        "limit=%C2%B2",
        "page=1e308",
    ]
    cases += [
        Case(
            s, f"library ?{q[:40]}", "GET", f"/ui/library?{q}", who="attacker_web", allowed=HARMLESS
        )
        for q in queries
    ]
    cases += [
        Case(s, f"jobs ?{q[:40]}", "GET", f"/ui/jobs?{q}", who="attacker_web", allowed=HARMLESS)
        for q in queries[:6]
    ]
    cases += [
        Case(s, f"events ?{q[:40]}", "GET", f"/ui/events?{q}", who="attacker_web", allowed=HARMLESS)
        for q in [*queries[:6], "failed=1", "state=%00"]
    ]
    paths = [
        "/ui/entries/..%2F..%2Fetc%2Fpasswd",
        "/ui/entries/" + "a" * 3000,
        "/ui/entries/%00",
        "/ui/entries/%C2%B2",
        "/ui/jobs/%00",
        "/ui/jobs/" + "j" * 3000,
        "/ui/nothing-here",
        "/ui/static/..%2F..%2Fsettings.py",
        "/ui/static/%00",
        "/ui/sign-in?next=//evil.example",
        "/ui/sign-in?next=https://evil.example",
        "/ui/sign-in?next=/ui/%0d%0aSet-Cookie:x=1",
    ]
    cases += [
        Case(s, f"path {p[:40]}", "GET", p, who="attacker_web", allowed=HARMLESS) for p in paths
    ]
    # Forms without the session's CSRF token, or from another site, change nothing.
    for action in ("archive", "revoke", "delete", "metadata"):
        cases.append(
            Case(
                s,
                f"{action} without csrf",
                "POST",
                f"/ui/entries/{{entry}}/{action}",
                who="victim_web",
                data={"csrf": ""},
                allowed=frozenset({403}),
            )
        )
        cases.append(
            Case(
                s,
                f"{action} forged csrf",
                "POST",
                f"/ui/entries/{{entry}}/{action}",
                who="victim_web",
                data={"csrf": "0" * 64},
                allowed=frozenset({403}),
            )
        )
        cases.append(
            Case(
                s,
                f"{action} non-ASCII csrf",
                "POST",
                f"/ui/entries/{{entry}}/{action}",
                who="victim_web",
                data={"csrf": "é" * 64},
                allowed=frozenset({403}),
            )
        )
        cases.append(
            Case(
                s,
                f"{action} cross-site",
                "POST",
                f"/ui/entries/{{entry}}/{action}",
                who="victim_web",
                with_csrf=True,
                headers={"Sec-Fetch-Site": "cross-site"},
                allowed=frozenset({403}),
            )
        )
        cases.append(
            Case(
                s,
                f"{action} other origin",
                "POST",
                f"/ui/entries/{{entry}}/{action}",
                who="victim_web",
                with_csrf=True,
                headers={"Origin": "https://evil.example"},
                allowed=frozenset({403}),
            )
        )
        cases.append(
            Case(
                s,
                f"{action} attacker's csrf",
                "POST",
                f"/ui/entries/{{entry}}/{action}",
                who="victim_web",
                data={"csrf": "attacker"},
                allowed=frozenset({403}),
            )
        )
    cases += [
        Case(
            s,
            "sign-in without form token",
            "POST",
            "/ui/sign-in",
            who="anonymous",
            data={"token": "mlt_x"},
            allowed=frozenset({403}),
        ),
        Case(
            s,
            "sign-in cross-site",
            "POST",
            "/ui/sign-in",
            who="anonymous",
            data={"token": "mlt_x"},
            headers={"Sec-Fetch-Site": "cross-site"},
            allowed=frozenset({403}),
        ),
        Case(
            s,
            "sign-out cross-site",
            "POST",
            "/ui/sign-out",
            who="victim_web",
            with_csrf=True,
            headers={"Sec-Fetch-Site": "cross-site"},
            allowed=frozenset({403}),
        ),
    ]
    # The web view's JSON endpoints: hostile bodies.
    bodies: list[tuple[str, bytes]] = [
        ("empty", b""),
        ("not json", b"{"),
        ("array", b"[]"),
        ("nul", b'{"fileName": "a\\u0000", "mimeType": "image/jpeg", "size": 1}'),
        ("huge size", b'{"fileName": "a", "mimeType": "image/jpeg", "size": 1e400}'),
        (
            "big int",
            b'{"fileName": "a", "mimeType": "image/jpeg", "size": 123456789012345678901234567890}',
        ),
        ("bad type", '{"fileName": "a", "mimeType": "application/x一", "size": 5}'.encode()),
        ("deep", b"[" * 5000 + b"]" * 5000),
        ("200 KB", b'{"fileName": "' + b"a" * 200_000 + b'"}'),
    ]
    for name, body in bodies:
        for path in ("/ui/uploads", "/ui/uploads/register"):
            cases.append(
                Case(
                    s,
                    f"{path} {name}",
                    "POST",
                    path,
                    who="victim_web",
                    with_csrf=True,
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
            )
    for key in (
        "v/{key}/" + "0" * 32 + ".webp",
        "{revoked_key}",
        "../../medialib.db",
        "/etc/passwd",
    ):
        cases.append(
            Case(
                s,
                f"register {key[:20]}",
                "POST",
                "/ui/uploads/register",
                who="attacker_web",
                with_csrf=True,
                json={
                    "key": key,
                    "size": 10,
                    "mimeType": "image/jpeg",
                    "width": 1,
                    "height": 1,
                    "fileName": "x.jpg",
                },
            )
        )
    return cases


def _uploads() -> list[Case]:
    s = "uploads"
    good = {"fileName": "a.jpg", "mimeType": "image/jpeg", "size": 100}
    asks: list[Any] = [
        good | {"size": 0},
        good | {"size": -1},
        good | {"size": 2**63},
        good | {"size": 1e30},
        good | {"size": "100"},
        good | {"size": True},
        good | {"mimeType": "image/jpeg\r\nX: y"},
        good | {"mimeType": "application/x一"},
        good | {"mimeType": "a" * 300},
        good | {"mimeType": ""},
        good | {"fileName": ""},
        good | {"fileName": "a" * 600},
        good | {"fileName": "a\u0000b"},
        good | {"extra": 1},
        {"fileName": "a"},
        [],
        "x",
        None,
        good | {"size": 10 * 1024**4},
    ]
    cases = [
        Case(s, f"ask {i}", "POST", API + "/mediaLibrary/uploads", who="victim", json=a)
        for i, a in enumerate(asks)
    ]
    # A file name is a name only: the key is medialib's own (a path in it goes nowhere).
    for name in ("../../../etc/passwd", "a/b\\c.jpg", ".htaccess", "é.JPG", "x." + "y" * 20):
        body = good | {"fileName": name}
        cases.append(
            Case(
                s,
                f"ask {name}",
                "POST",
                API + "/mediaLibrary/uploads",
                who="victim",
                json=body,
                allowed=frozenset({200}),
            )
        )
    # Hand-made upload URLs: no signature medialib gave.
    keys = [
        "{upload_key}",
        "v/{key}/" + "0" * 32 + ".webp",
        "{key}",
        "../medialib.db",
        "%2e%2e/medialib.db",
        "2026/12/06/" + "a" * 2000 + ".jpg",
        "2026/12/06/%00.jpg",
        "2026/12/06/é.jpg",
        "",
        "tmp/x",
    ]
    for key in keys:
        for query in (
            "project=demo&size=10&type=image/jpeg&expires=9999999999&signature=" + "0" * 64,
            "project=demo&size=10&type=image/jpeg&expires=9999999999&signature=" + "é" * 64,
            "project=demo&size=-1&type=image/jpeg&expires=-5&signature=x",
            "size=10",
        ):
            cases.append(
                Case(
                    s,
                    f"PUT {key[:20]} {query[:24]}",
                    "PUT",
                    f"/uploads/{key}?{query}",
                    who="anonymous",
                    content=b"x" * 10,
                )
            )
    return cases


def _renditions() -> list[Case]:
    s = "renditions"
    values = [
        "1e308",
        "-1",
        "0",
        "nan",
        "inf",
        "-inf",
        "1e-308",
        "99999999999999999999",
        "%C2%B2",
        "0x10",
        "",
        "1,2",
        "%00",
        "4097",
        "1" * 400,
    ]
    cases = []
    for name in ("w", "h", "dpr", "q", "fp-x", "fp-y"):
        for value in values:
            cases.append(
                Case(
                    s,
                    f"{name}={value[:12]}",
                    "GET",
                    f"/media/{{key}}?{name}={value}",
                    who="anonymous",
                    allowed=frozenset({200, 400}),
                )
            )
    odd = [
        "w=1e308&dpr=2",
        "w=0.5&h=0.5&dpr=5",
        "rect=0,0,1e308,1e308",
        "rect=-1,-1,5,5",
        "rect=a,b,c,d",
        "rect=1,2,3",
        "fit=crop&crop=faces,edges,entropy,focalpoint,top,left",
        "crop=%00",
        "fit=%00",
        "fm=bmp",
        "fm=%C2%B2",
        "auto=format,format,format",
        "bg=zzzzzz",
        "bg=%C2%B2%C2%B2%C2%B2",
        "fill-color=12345",
        "w=4096&h=4096&dpr=5&fit=scale",
        "w=1&h=4096&fit=scale",
        "w=2100&h=2100&fm=gif",
        "w=10&w=20&w=1e308",
        "s=%C3%A9&w=10",
    ]
    cases += [
        Case(
            s, q[:30], "GET", f"/media/{{key}}?{q}", who="anonymous", allowed=frozenset({200, 400})
        )
        for q in odd
    ]
    keys = [
        "{revoked_key}",
        "{revoked_key}?w=10",
        "v/{key}/" + "0" * 32 + ".jpeg",
        "v/{revoked_key}",
        "../medialib.db",
        "..%2Fmedialib.db",
        "%00",
        "a" * 3000,
        "tmp/",
        "secret.key",
        "../secret.key",
        "%2e%2e%2fsecret.key",
    ]
    cases += [
        Case(
            s,
            f"key {k[:24]}",
            "GET",
            f"/media/{k}",
            who="anonymous",
            allowed=frozenset({400, 403, 404}),
        )
        for k in keys
    ]
    headers: list[dict[str, str]] = [
        {"Range": "bytes=99999999-"},
        {"Range": "bytes=-0"},
        {"Range": "bytes=5-1"},
        {"Range": "bytes=0-0,1-1,2-2"},
        {"Range": "bytes=%C2%B2-"},
        {"Range": "bytes=" + "9" * 40 + "-"},
        {"If-None-Match": "*"},
        {"If-None-Match": '"' + "a" * 5000 + '"'},
        {"If-Modified-Since": "Thu, 31 Dec 9999 23:59:59 GMT"},
        {"If-Modified-Since": "garbage"},
        {"If-Range": '"x"', "Range": "bytes=0-1"},
        {"Accept": "image/avif;q=0, image/webp;q=%C2%B2"},
        {"Accept": "*/*;q=nan"},
        {"Accept": "," * 5000},
    ]
    for h in headers:
        for path in ("/media/{key}", "/media/{key}?w=16&auto=format"):
            cases.append(
                Case(
                    s,
                    f"{next(iter(h))} {next(iter(h.values()))[:16]} {path[-8:]}",
                    "GET",
                    path,
                    who="anonymous",
                    headers=h,
                    allowed=frozenset({200, 206, 304, 400, 416}),
                )
            )
    return cases


def _search() -> list[Case]:
    s = "search and paging"
    queries = [
        "q=%22%22",
        "q=a%20OR%20b",
        "q=NOT%20a",
        "q=a%20AND",
        "q=*",
        "q=%5E",
        "q=a:b",
        "q=%27",
        "q=%00",
        "q=" + "a%20" * 12,
        "q=" + "x" * 501,
        "q=%E2%80%AE%D8%A7",
        "q=%F0%9F%98%80",
        "q=_",
        "q=a&q=b",
        "cursor=%C2%B2",
        "cursor=%00",
        "cursor=" + "A" * 3000,
        "cursor=MjAyNi0wMS0wMXx4",
        "cursor=====",
        "cursor=" + "fA",
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=1e3",
        "limit=%C2%B2",
        "createdAfter=9999-12-31T23:59:59.999999Z",
        "createdAfter=0001-01-01T00:00:00%2B14:00",
        "createdBefore=0001-01-01T00:00:00Z",
        "updatedAfter=9999-12-31T23:59:59.999999-14:00",
        "createdAfter=2026-13-45",
        "createdAfter=%C2%B2%C2%B2%C2%B2%C2%B2-01-01",
        "createdAfter=1e308",
        "archived=%C2%B2",
        "revoked=nan",
        "mediaType=" + "m" * 200,
        "systemName=%00",
        "ids=" + ",".join(["a"] * 1001),
        "ids=" + "%2C" * 500,
        "ids=../..",
        "externalId=x",
        "systemName=a&externalId=%00",
        "q=a&cursor=%C2%B2",
    ]
    cases = [
        Case(
            s,
            f"library ?{q[:40]}",
            "GET",
            API + f"/mediaLibrary?{q}",
            who="attacker",
            allowed=frozenset({200, 400}),
        )
        for q in queries
    ]
    jobs = [
        "cursor=%C2%B2",
        "cursor=-1",
        "cursor=99999999999",
        "cursor=%00",
        "limit=0",
        "limit=1e9",
        "state=%00",
        "state=cancelled",
        "kind=%C2%B2",
        "kind=" + "k" * 100,
    ]
    cases += [
        Case(
            s,
            f"jobs ?{q[:40]}",
            "GET",
            API + f"/import/jobs?{q}",
            who="attacker",
            allowed=frozenset({200, 400}),
        )
        for q in jobs
    ]
    status = [
        "items=%00",
        "items=failed",
        "limit=-1",
        "limit=%C2%B2",
        "cursor=%C2%B2",
        "cursor=9" * 30,
        "cursor=-5",
    ]
    cases += [
        Case(
            s,
            f"status ?{q[:40]}",
            "GET",
            API + f"/import/images/status?id={{job}}&{q}",
            who="victim",
            allowed=frozenset({200, 400}),
        )
        for q in status
    ]
    cases += [
        Case(
            s,
            f"status id {i}",
            "GET",
            API + f"/import/images/status?id={i}",
            who="victim",
            allowed=frozenset({400, 404}),
        )
        for i in ("%00", "a" * 3000, "%C2%B2", "")
    ]
    return cases


def _webhooks() -> list[Case]:
    s = "webhooks and events"
    hooks = [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://user:pw@127.0.0.2:9/x",
        "http://[::1]:1/",
        "http://%00/",
        "http://" + "a" * 3000 + ".example/",
        "ftp://example.com/",
        "http://é.example/",
        "http://127.0.0.1:0/",
        "//example.com/x",
        "",
        " ",
        "http://[",
        "https://example.com/%0d%0aX: y",
    ]
    cases = []
    for hook in hooks:
        body = {
            "systemName": "archive",
            "webhook": hook,
            "images": [item("http://127.0.0.2:9/a.jpg", f"h-{uuid.uuid4().hex[:6]}")],
        }
        cases.append(
            Case(
                s,
                f"webhook {hook[:30]!r}",
                "POST",
                API + "/import/images",
                who="attacker",
                json=body,
                allowed=frozenset({200, 400}),
            )
        )
    contexts: list[Any] = [
        {"a": 123456789012345678901234567890},
        {"a": "\u0000"},
        {"a": "x" * 9000},
        [],
        "x",
        1,
        {"a": 1e308},
        {"a": -(2**63) - 1},
        {"a": {"b": {"c": None}}},
    ]
    for context in contexts:
        body = {
            "systemName": "archive",
            "context": context,
            "images": [item("http://127.0.0.2:9/a.jpg", "c")],
        }
        cases.append(
            Case(
                s,
                f"context {str(context)[:24]}",
                "POST",
                API + "/import/images",
                who="attacker",
                json=body,
                allowed=frozenset({200, 400}),
            )
        )
    deliveries = [
        "state=%00",
        "state=nope",
        "limit=0",
        "limit=%C2%B2",
        "cursor=%C2%B2",
        "cursor=" + "A" * 2000,
        "cursor=msg_x",
    ]
    cases += [
        Case(
            s,
            f"deliveries ?{q[:30]}",
            "GET",
            API + f"/events/deliveries?{q}",
            who="attacker",
            allowed=frozenset({200, 400}),
        )
        for q in deliveries
    ]
    return cases


def _bodies() -> list[Case]:
    s = "request bodies"
    raw: list[tuple[str, bytes, str]] = [
        ("empty", b"", "application/json"),
        ("not json", b"{", "application/json"),
        ("text/plain", b"{}", "text/plain"),
        ("form", b"a=b", "application/x-www-form-urlencoded"),
        ("deep", b"[" * 300 + b"]" * 300, "application/json"),
        ("big int", b'{"a": 1' + b"0" * 40 + b"}", "application/json"),
        ("nul", b'{"a": "\\u0000"}', "application/json"),
        ("bad utf-8", b'{"a": "\xff\xfe"}', "application/json"),
        ("bom", b'\xef\xbb\xbf{"mediaLibraryEntries": []}', "application/json"),
        ("lone surrogate", b'{"a": "\\ud800"}', "application/json"),
        ("dup keys", b'{"mediaLibraryEntries": [], "mediaLibraryEntries": 5}', "application/json"),
        ("nan", b'{"a": NaN}', "application/json"),
        ("17 MB", b'{"a": "' + b"x" * (17 * 1024 * 1024) + b'"}', "application/json"),
        ("charset", b"{}", "application/json; charset=utf-16"),
    ]
    targets = [
        ("POST", API + "/import/mediaLibrary"),
        ("POST", API + "/import/images"),
        ("PATCH", API + "/mediaLibrary/{entry}"),
        ("POST", API + "/mediaLibrary/uploads"),
    ]
    cases = []
    for name, body, content_type in raw:
        for method, path in targets:
            cases.append(
                Case(
                    s,
                    f"{name} {method} {path[-20:]}",
                    method,
                    path,
                    who="victim",
                    content=body,
                    headers={"Content-Type": content_type},
                )
            )
    entries: list[Any] = [
        {"mediaLibraryEntries": [image_entry("v/x/" + "0" * 32 + ".jpeg")]},
        {
            "mediaLibraryEntries": [
                image_entry(new_key()) | {"asset": image_asset("k") | {"mimeType": "image/x一"}}
            ]
        },
        {"mediaLibraryEntries": [image_entry(new_key()) | {"metadata": {"title": "\u0000"}}]},
        {"mediaLibraryEntries": [image_entry(new_key()) | {"id": "../.."}]},
        {
            "mediaLibraryEntries": [
                image_entry(new_key()) | {"asset": image_asset("k") | {"size": 2**64}}
            ]
        },
        {"mediaLibraryEntries": [None, 1, "x", []]},
        {"mediaLibraryEntries": [image_entry(new_key()) for _ in range(1001)]},
    ]
    cases += [
        Case(
            s,
            f"entries {i}",
            "POST",
            API + "/import/mediaLibrary",
            who="victim",
            json=e,
            allowed=frozenset({200, 400}),
        )
        for i, e in enumerate(entries)
    ]
    return cases


SURFACES: dict[str, Callable[[], list[Case]]] = {
    "isolation": _isolation,
    "web view": _web,
    "uploads": _uploads,
    "renditions": _renditions,
    "search and paging": _search,
    "webhooks and events": _webhooks,
    "request bodies": _bodies,
}


@pytest.fixture(scope="module")
async def world(stack: Stack, origin: Origin) -> World:
    victim = "victim"  # a project of its own: no other test touches it
    api = await stack.api(victim)
    entry = await stored_image(stack, api, metadata={"title": "victim picture"})
    revoked = await stored_image(stack, api)
    revoke = {"patches": [{"operation": "revokeAsset"}]}
    assert (await api.patch(f"{API}/mediaLibrary/{revoked['id']}", json=revoke)).status_code == 200
    importer = await Importer.open(stack, victim)
    job = await importer.start([item(origin.file(f"{uuid.uuid4().hex}/v.jpg", media.jpeg()), "v")])
    await importer.receiver.delivered()
    await importer.close()
    upload = await api.post(
        f"{API}/mediaLibrary/uploads",
        json={"fileName": "p.jpg", "mimeType": "image/jpeg", "size": 10},
    )
    world = World(stack, victim, entry, revoked, job, upload.json()["key"])
    world.clients |= {
        "victim": api,
        "attacker": await stack.api("other"),
        "anonymous": stack.client(),
        "victim_web": stack.client(),
        "attacker_web": stack.client(),
    }
    world.csrf["victim_web"] = await sign_in(world.clients["victim_web"], await stack.token(victim))
    world.csrf["attacker_web"] = await sign_in(
        world.clients["attacker_web"], await stack.token("other")
    )
    return world


async def _send(world: World, case: Case) -> httpx.Response:
    client = world.clients[case.who]
    data, headers = case.data, case.headers
    if case.with_csrf and (case.json is not None or case.content is not None):
        headers = headers | {"X-CSRF-Token": world.csrf[case.who]}  # as upload.js sends it
    elif case.with_csrf:
        data = (data or {}) | {"csrf": world.csrf[case.who]}
    elif data is not None and data.get("csrf") == "attacker":
        data = data | {"csrf": world.csrf["attacker_web"]}
    request = client.build_request(
        case.method,
        case.url(world),
        json=case.json,
        content=case.content,
        data=data,
        headers=case.headers,
    )
    return await client.send(request)


@pytest.mark.parametrize("surface", list(SURFACES))
async def test_hostile_requests_find_no_hole(world: World, surface: str) -> None:
    before = await world.stack.snapshot(world.victim)
    wrong = []
    for case in SURFACES[surface]():
        try:
            answer = await _send(world, case)
        except httpx.TransportError as error:
            wrong.append(f"{case.name}: no answer ({error!r})")
            continue
        if answer.status_code not in case.allowed:
            wrong.append(f"{case.name}: {answer.status_code} {answer.text[:200]!r}")
    assert not wrong, "\n".join(wrong)
    assert await world.stack.snapshot(world.victim) == before
    assert (await world.clients["anonymous"].get("/healthz")).status_code == 200


if __name__ == "__main__":
    counts = Counter({name: len(make()) for name, make in SURFACES.items()})
    for name, count in counts.items():
        print(f"{name:24} {count}")
    print(f"{'in all':24} {sum(counts.values())}")
