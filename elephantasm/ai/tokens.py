"""Token counts with a local tokenizer (the embedding model's WordPiece), never the network."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from tokenizers import Tokenizer

TOKENIZER_PATH = Path(__file__).parent / "data" / "minilm-tokenizer.json"


@cache
def tokenizer() -> Tokenizer:
    """The shared tokenizer, with the file's fixed 128-token padding and truncation removed."""
    tok = Tokenizer.from_file(str(TOKENIZER_PATH))
    tok.no_padding()
    tok.no_truncation()
    return tok


def count_tokens(text: str) -> int:
    """Tokens in `text`, without the [CLS]/[SEP] markers."""
    if not text:
        return 0
    return len(tokenizer().encode(text, add_special_tokens=False).ids)


def count_tokens_many(texts: list[str]) -> list[int]:
    """`count_tokens` of each text, in one batch (the tokenizer runs it on all cores)."""
    if not texts:
        return []
    encodings = tokenizer().encode_batch(texts, add_special_tokens=False)
    return [len(e.ids) if text else 0 for text, e in zip(texts, encodings, strict=True)]
