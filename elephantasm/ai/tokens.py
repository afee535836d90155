"""Token counts with a local tokenizer (the embedding model's WordPiece), never the network."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

# The tokenizers library tokenizes a batch on a thread pool of one thread per core, whose threads
# spin a while after each call. In a server those cores run PostgreSQL and the embedding model:
# a query embedded beside a pack's SQL stalled the request's thread for ~2 ms (a pack at a
# million memories: p50 -0.7 ms, search -1 ms without the pool, bench/retrieval.py). Its texts
# are short: one thread, unless the environment says otherwise (read by the library per call).
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

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
    """`count_tokens` of each text, exactly, and faster on plain-ASCII text (the bulk: ~5x on
    lines of a few hundred characters, measured in bench/retrieval.py's pack).

    The tokenizer (BERT's) first finds its special tokens ([CLS], [SEP]... as written, one token
    each), cleans and lowercases the rest, splits it into words at whitespace and at every
    punctuation character, then cuts each word into WordPiece tokens on its own (a word of over
    100 characters is one [UNK]): a text's count is the sum of its words' counts. For text of
    printable ASCII, tabs, newlines and carriage returns, without a special token in it, that
    split is `_WORDS` on the lowercased text (cleaning changes nothing there: no control
    character, accent or CJK character), and each word's count is remembered (`_word_tokens`,
    computed by the tokenizer itself). Any other text goes to the tokenizer. The tests check
    the sums against the tokenizer's counts on hostile text."""
    counts = [0] * len(texts)
    others: list[int] = []
    special = _special_tokens()
    for position, text in enumerate(texts):
        if not text:
            continue
        if not _PLAIN_ASCII.match(text) or special.search(text):
            others.append(position)
            continue
        words = _WORDS.findall(text.lower())
        known = {word: _word_tokens.get(word) for word in words}  # this text's own (threads)
        missing = [word for word, count in known.items() if count is None]
        if missing:
            known.update(_learn(missing))
        counts[position] = sum(map(known.__getitem__, words))
    if others:
        encodings = tokenizer().encode_batch_fast(
            [texts[i] for i in others], add_special_tokens=False
        )
        for position, encoding in zip(others, encodings, strict=True):
            counts[position] = len(encoding.ids)
    return counts


# Printable ASCII with tabs, newlines and carriage returns; the words BERT's pre-tokenizer makes
# of it (runs of letters and digits; each punctuation character alone, as Rust's
# is_ascii_punctuation).
_PLAIN_ASCII = re.compile(r"[\t\n\r\x20-\x7e]*\Z")
_WORDS = re.compile(r"[a-z0-9]+|[!-/:-@\[-`{-~]")
# Tokens per (lowercased) word of at most LONG_WORD characters, as the tokenizer counts it;
# emptied when it would grow past WORD_CACHE_MAX words (an agent's vocabulary is far smaller;
# at most ~100 bytes a word).
WORD_CACHE_MAX = 200_000
LONG_WORD = 100  # the WordPiece model's max_input_chars_per_word: a longer word is one [UNK]
_word_tokens: dict[str, int] = {}


@cache
def _special_tokens() -> re.Pattern[str]:
    """The tokenizer's added tokens as written ([PAD], [UNK], [CLS], [SEP], [MASK])."""
    added = [token.content for token in tokenizer().get_added_tokens_decoder().values()]
    return re.compile("|".join(re.escape(content) for content in added))


def _learn(words: list[str]) -> dict[str, int]:
    """The tokenizer's count of each word, remembered (long words: 1, not remembered)."""
    learned = {word: 1 for word in words if len(word) > LONG_WORD}
    short = [word for word in words if len(word) <= LONG_WORD]
    encodings = tokenizer().encode_batch_fast(short, add_special_tokens=False) if short else []
    counted = {word: len(encoding.ids) for word, encoding in zip(short, encodings, strict=True)}
    if len(_word_tokens) + len(counted) > WORD_CACHE_MAX:
        _word_tokens.clear()
    if len(counted) <= WORD_CACHE_MAX:
        _word_tokens.update(counted)
    learned.update(counted)
    return learned
