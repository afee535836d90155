"""Plain-text helpers shared by the pipeline and the packs."""

from __future__ import annotations

import re

ELLIPSIS = "…"
_SPACES = re.compile(r"\s+")


def squash(text: str) -> str:
    """Whitespace runs become one space; ends stripped."""
    return _SPACES.sub(" ", text).strip()


def truncate_words(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters on a word boundary, with an ellipsis when cut."""
    text = squash(text)
    if len(text) <= limit:
        return text
    # Room for the ellipsis; the character just after may be the space that ends a whole word.
    room = limit - len(ELLIPSIS)
    space = text.rfind(" ", 0, room + 1)
    # A word boundary not too far back; else the one long word itself is cut.
    cut = text[:space] if space > limit // 2 else text[:room]
    return cut.rstrip(" ,;:-") + ELLIPSIS


def words(text: str) -> frozenset[str]:
    """The words of `text` (split at whitespace), as a set: for word lists written as prose."""
    return frozenset(text.split())
