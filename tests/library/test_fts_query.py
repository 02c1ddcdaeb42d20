"""The FTS5 query a search's words become on SQLite (library.browse.fts_query)."""

from __future__ import annotations

from medialib.library.browse import MAX_TERMS, fts_query


def test_a_word_that_begins_a_few_terms_is_asked_as_them() -> None:
    terms = {"harb": ["harbour", "harbours"], "dawn": ["dawn"]}
    assert fts_query(["harb", "dawn"], terms) == '("harbour" OR "harbours") AND ("dawn")'


def test_a_word_that_begins_many_terms_or_was_not_looked_up_stays_a_prefix() -> None:
    many = {"a": [f"a{i}" for i in range(MAX_TERMS + 1)]}
    assert fts_query(["a", "île"], many) == '"a"* AND "île"*'


def test_a_word_that_begins_no_term_matches_nothing() -> None:
    assert fts_query(["harbour", "zz"], {"harbour": ["harbour"], "zz": []}) is None
