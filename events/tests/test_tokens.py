from events.tokens import count_tokens


def test_empty_text_has_no_tokens():
    assert count_tokens("") == 0


def test_words_and_punctuation_each_count_as_one_token():
    assert count_tokens("Hello, world!") == 4


def test_whitespace_does_not_count():
    assert count_tokens("  a \n\t b  ") == 2


def test_non_ascii_words_count_as_words():
    assert count_tokens("café über naïve") == 3


def test_count_is_deterministic():
    text = "The same text gives the same count, every time."
    assert count_tokens(text) == count_tokens(text) == 11
