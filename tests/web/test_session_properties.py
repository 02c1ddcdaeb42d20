"""The session cookie's parser as a property (hypothesis): a cookie is anybody's text, and reading
it answers its parts or no session, never an exception (the expiry is ASCII digits: '²' passed
`str.isdigit` and failed `int`, a 500 on every page)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from medialib.web.session import parse_cookie
from tests.support.strategies import number_texts

parts = st.text(st.characters(exclude_characters="."), max_size=8)
cookies = st.builds(
    lambda project, token, expires, signature: f"{project}.{token}.{expires}.{signature}",
    parts,
    parts,
    number_texts.filter(lambda text: "." not in text),
    parts,
)


@given(cookies | st.text(max_size=40))
@example("demo.t.\u00b2.s")
@example("demo.t." + "9" * 5000 + ".s")
def test_a_cookie_is_its_parts_or_no_session(cookie: str) -> None:
    session = parse_cookie(cookie)

    if session is None:
        return
    project, token_id, expires, signature = cookie.split(".")
    assert (session.project, session.token_id, session.signature) == (project, token_id, signature)
    assert expires.isascii()
    assert session.expires == int(expires)
