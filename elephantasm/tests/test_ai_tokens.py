from elephantasm.ai.tokens import count_tokens


def test_empty_text_has_no_tokens():
    assert count_tokens("") == 0


def test_words_and_punctuation_are_wordpiece_tokens():
    # [hello] [,] [world] [!] — no [CLS]/[SEP] markers counted
    assert count_tokens("Hello, world!") == 4


def test_rare_words_split_into_several_pieces():
    assert count_tokens("Elephantasm") > 1


def test_long_text_is_counted_whole_not_truncated_at_128():
    assert count_tokens("word " * 1000) == 1000


def test_whitespace_does_not_count():
    assert count_tokens("  a \n\t b  ") == 2


def test_batch_counts_equal_single_counts():
    from elephantasm.ai.tokens import count_tokens_many

    texts = ["Hello, world!", "", "Elephantasm remembers everything.", "word " * 300]
    assert count_tokens_many(texts) == [count_tokens(t) for t in texts]


def _reference(text: str) -> int:
    """The tokenizer's own count, word split and all (what count_tokens_many must equal)."""
    from elephantasm.ai.tokens import tokenizer

    return len(tokenizer().encode(text, add_special_tokens=False).ids) if text else 0


def test_batch_counts_equal_the_tokenizers_on_hostile_text():
    import random

    from elephantasm.ai.tokens import count_tokens_many

    rng = random.Random(5)
    alphabet = (
        [chr(c) for c in range(0x20, 0x7F)]
        + list("\t\n\r\x0b\x0c\x00\x7f")
        + list("éÉüßø中文日本語🙂\u200b\u00a0\ufffd\u0301")
    )
    texts = []
    for _ in range(400):
        length = rng.choice([1, 5, 40, 300, 2000])
        texts.append("".join(rng.choice(alphabet) for _ in range(length)))
        words = rng.choices(["Dana", "re-run", "it's", "GPU", "x" * 120, "naïve", "10:30"], k=30)
        texts.append(" ".join(words))
    texts += ["plain ascii " * 50, "a" * 101, "A" * 100, "__init__.py", "e\u0301t\u00e9"]

    assert count_tokens_many(texts) == [_reference(t) for t in texts]
    assert count_tokens_many(texts) == [_reference(t) for t in texts]  # words remembered now


def test_batch_counts_equal_the_tokenizers_on_plain_ascii():
    """The fast path's own ground: printable ASCII, tabs, newlines and carriage returns, with
    special tokens as written, punctuation runs and words about the WordPiece length limit."""
    import random

    from elephantasm.ai.tokens import _PLAIN_ASCII, count_tokens_many

    rng = random.Random(11)
    printable = [chr(c) for c in range(0x20, 0x7F)] + list("\t\n\r")
    pieces = [
        "[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[cls]", "[ CLS ]", "[[SEP]]", "CLS",
        "x" * 99, "y" * 100, "Z" * 101, "ab1" * 40, "__init__.py", "e-mail", "it's", "10:30",
        "naive", "GPU", "re-run", "...", "!!??", "Dana", "unbelievably", "Tuesday's",
    ]  # fmt: skip
    texts = []
    for _ in range(600):
        if rng.random() < 0.5:
            texts.append("".join(rng.choice(printable) for _ in range(rng.choice([3, 60, 400]))))
        else:
            texts.append(rng.choice(" \t\n").join(rng.choices(pieces, k=rng.randint(1, 40))))
    assert all(_PLAIN_ASCII.match(text) for text in texts)

    assert count_tokens_many(texts) == [_reference(t) for t in texts]


def test_the_word_cache_is_emptied_when_full(monkeypatch):
    from elephantasm.ai import tokens

    monkeypatch.setattr(tokens, "_word_tokens", {})
    monkeypatch.setattr(tokens, "WORD_CACHE_MAX", 10)
    first = " ".join(f"word{n}" for n in range(8))
    second = "other words here now and then some more lines"
    tokens.count_tokens_many([first])
    assert len(tokens._word_tokens) == 8

    assert tokens.count_tokens_many([second]) == [_reference(second)]
    assert set(tokens._word_tokens) == set(second.split())  # the first text's words are gone

    assert tokens.count_tokens_many([first + " " + second]) == [_reference(first + " " + second)]


def _parallelism_after_import(env_value: str | None) -> str:
    """TOKENIZERS_PARALLELISM as a fresh interpreter has it after importing the tokens module."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TOKENIZERS_PARALLELISM"}
    if env_value is not None:
        env["TOKENIZERS_PARALLELISM"] = env_value
    code = "import os, elephantasm.ai.tokens; print(os.environ['TOKENIZERS_PARALLELISM'])"
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_tokenizers_thread_pool_is_off_unless_the_environment_says_otherwise():
    assert _parallelism_after_import(None) == "false"
    assert _parallelism_after_import("true") == "true"
