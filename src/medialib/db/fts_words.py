"""Words of a text as SQLite's full-text index takes them (FTS5's `unicode61` tokenizer with
`remove_diacritics 2`, migration 0006), for what that index cannot answer: whether a search's
words begin words of *part* of an entry's text (only the properties its media type marks
`index`, library/browse.py). The index finds the entries whose whole text has the words; this
checks each of those again, as the SQL function `medialib_has_words(words, text)` that every
SQLite connection has (db/engine.py).

The tokenizer is followed as its documentation states it: letters and digits make words,
everything else parts them, case is folded and diacritics are removed. Where it differs (it also
counts private-use characters as letters, and folds a few characters otherwise than Unicode's
decomposition does), the check can only leave out an entry the index found, never add one.
"""

from __future__ import annotations

import re
import unicodedata

HAS_WORDS = "medialib_has_words"
_WORD = re.compile(r"[^\W_]+")


def fts_words(text: str) -> list[str]:
    """The words of `text`, folded as the index folds them."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _WORD.findall(bare)


def has_words(words: str | None, text: str | None) -> bool:
    """Whether every one of the space-separated `words` begins a word of `text`."""
    if not words:
        return True
    found = fts_words(text or "")
    return all(any(one.startswith(word) for one in found) for word in fts_words(words))
