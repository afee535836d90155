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
