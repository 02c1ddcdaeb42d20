"""The SVG check as a pure function: what editors write is taken with the size a browser gives
it; what can script, navigate or load is refused, saying what (the same corpus goes through
every import path in tests/security/test_hostile_svgs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medialib.errors import ItemError
from medialib.media.probe.svg import SvgCheck, check_svg, css_problem, svg_size
from tests.support import svgs


@pytest.mark.parametrize(("body", "size"), [pytest.param(b, s, id=n) for n, b, s in svgs.ORDINARY])
def test_ordinary_svgs_are_taken_with_their_size(
    tmp_path: Path, body: bytes, size: tuple[int, int]
) -> None:
    path = tmp_path / "a.svg"
    path.write_bytes(body)

    assert svg_size(path) == size


@pytest.mark.parametrize(("body", "words"), [pytest.param(b, w, id=n) for n, b, w in svgs.HOSTILE])
def test_hostile_svgs_are_refused_saying_what(tmp_path: Path, body: bytes, words: str) -> None:
    path = tmp_path / "a.svg"
    path.write_bytes(body)

    with pytest.raises(ItemError) as refused:
        svg_size(path)

    assert refused.value.code == "unsafe_svg"
    assert words in refused.value.message


@pytest.mark.parametrize(
    ("name", "body"),
    [(n, b) for n, b, _ in svgs.ORDINARY[:3]]
    + [(n, b) for n, b, _ in svgs.HOSTILE if "style" in n or "encoding" in n],
)
def test_an_svg_fed_a_byte_at_a_time_is_judged_as_whole(name: str, body: bytes) -> None:
    """Large SVGs are checked as they stream in: a style sheet, a name or a declaration cut
    between two pieces is read as one."""
    whole, pieces = SvgCheck(), SvgCheck()

    def answer(check: SvgCheck, chunks: list[bytes]) -> object:
        try:
            for chunk in chunks:
                check.feed(chunk)
            return check.close()
        except ItemError as error:
            return (error.code, error.message)

    one_byte_each = [body[i : i + 1] for i in range(len(body))]
    assert answer(pieces, one_byte_each) == answer(whole, [body]), name


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "invalid_image"),
        (b"<html xmlns='http://www.w3.org/2000/svg'/>", "invalid_image"),
        (b"<svg xmlns='http://www.w3.org/1999/xhtml'/>", "invalid_image"),
        (b"<?xml version='1.0' encoding='utf-16'?><svg/>", "invalid_image"),
        (b"<?xml version='1.0' encoding='x-no-such'?><svg/>", "unsafe_svg"),
        (
            "<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>".encode("utf-16"),
            "unsafe_svg",
        ),
    ],
    ids=["unclosed", "html-root", "xhtml-svg", "lying-encoding", "unknown-encoding", "utf-16"],
)
def test_what_is_no_well_formed_svg_is_an_invalid_image_and_encodings_count(
    body: bytes, code: str
) -> None:
    with pytest.raises(ItemError) as refused:
        check_svg(body)

    assert refused.value.code == code


@pytest.mark.parametrize(
    "css",
    [
        "fill:url(#a);stroke:url( '#b' )",
        "font-family:'Weird (Font)', \"url(http://x)\"",
        "/* url(http://x) */ fill: red",
        "@font-face{src:url(data:font/woff2;base64,AAAA) format('woff2')}",
        "mask:url(data:image/png;base64,iVBORw0KGgo=)",
        ".a:not(.b) { transform: translate(1px, 2px) rotate(3deg) }",
        "@namespace svg url(http://www.w3.org/2000/svg); svg|rect { fill: red }",
    ],
)
def test_css_that_loads_nothing_is_taken(css: str) -> None:
    assert css_problem(css) is None


@pytest.mark.parametrize(
    ("css", "problem"),
    [
        ("fill:url(http://x/p)", "loads 'http://x/p'"),
        ("fill:url()", "loads ''"),
        ("fill:URL( //x/p )", "loads '//x/p'"),
        ("fill:url('data:image/svg+xml,<svg/>')", "loads 'data:image/svg+xml"),
        ('@import "x.css"', "@import"),
        ("@IMPORT url(x.css)", "@IMPORT"),
        ('a{b:-webkit-image-set("x.png" 1x)}', "-webkit-image-set()"),
        ("a{b:--f(1)}", "--f()"),
        ("a{b:u\\rl(x)}", "CSS escape"),
        ("a{b:url(x", "loads 'x'"),
        ('a{b:url("x', "loads 'x'"),
        ("@-moz-document url-prefix(){a{b:c}}", "@-moz-document"),
        ("@namespace x url(y); @import url(http://x/a.css);", "@import"),
        ("@namespace x url(y); a{fill:url(http://x/p)}", "loads 'http://x/p'"),
    ],
)
def test_css_that_could_load_is_refused(css: str, problem: str) -> None:
    found = css_problem(css)

    assert found is not None
    assert problem in found
