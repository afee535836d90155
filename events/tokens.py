"""A small, deterministic, offline token estimator.

It counts words (runs of letters, digits and underscores) and single punctuation or symbol
characters, the way word-piece tokenizers roughly do for English text. It needs no network and no
model files, so ingest never waits on anything.

This is a stand-in: the real tokenizer (the embedding model's own, see ARCHITECTURE.md) comes with
a later issue, and only `count_tokens` is meant to change then.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """Estimate the number of tokens in `text` (0 for the empty string)."""
    if not text:
        return 0
    return len(_TOKEN.findall(text))
