"""Learning a WordPiece vocabulary in the original BERT layout: tensorflow-text's learner on words split
as BERT splits them, with a ceiling on its threshold search (`search_ceiling`), and the [UNK] rate of the
result. Pure functions over lists of paragraphs; `pipelines.build_vocab` is the command around them.

    >>> reserved_tokens(2)
    ['[PAD]', '[unused0]', '[unused1]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
"""

from __future__ import annotations

SPECIAL_TOKENS = ("[UNK]", "[CLS]", "[SEP]", "[MASK]")


def reserved_tokens(num_unused: int) -> list[str]:
    """[PAD], [unused0..N-1], [UNK], [CLS], [SEP], [MASK] — the original BERT vocabularies'
    order."""
    return ["[PAD]"] + [f"[unused{i}]" for i in range(num_unused)] + list(SPECIAL_TOKENS)


# How far above the count of the vocab_size-th most frequent word the threshold search may start. The
# threshold the learner settles on was 1.9× that count on the Wikipedia sample (WORKSPACE_NOTES).
CEILING_FACTOR = 4
LEARNER_LOWER_THRESHOLD = 10  # the learner's own default lower bound


def search_ceiling(word_counts: dict[str, int], pieces: int) -> int | None:
    """A ceiling for the WordPiece learner's count threshold, or None to keep its own (the most
    frequent word's count). At the count of the `pieces`-th most frequent word at least that many
    whole words pass, so the answer lies at or above it; CEILING_FACTOR × that count is a measured
    guess at how far above, not a proof: `learn_vocab` checks the result and searches the whole
    range when the guess was too low. The learner's binary search — one full learning pass per
    step — then takes 3 passes instead of 11 on the Wikipedia sample.

    >>> search_ceiling({"the": 900, "of": 500, "king": 40, "rare": 2}, pieces=3)
    160
    >>> search_ceiling({"the": 900, "rare": 2}, pieces=5) is None  # too few words to bound it
    True
    """
    counts = sorted(word_counts.values(), reverse=True)
    if len(counts) < pieces:
        return None
    ceiling = CEILING_FACTOR * counts[pieces - 1]
    return ceiling if ceiling > LEARNER_LOWER_THRESHOLD else None


def learn_vocab(
    paragraphs: list[str], vocab_size: int, num_unused: int, lower_case: bool
) -> list[str]:
    import tensorflow as tf
    from tensorflow_text.python.ops.bert_tokenizer import BasicTokenizer
    from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

    reserved = reserved_tokens(num_unused)
    if vocab_size <= len(reserved):
        raise ValueError(
            f"--vocab_size {vocab_size} leaves no room after {len(reserved)} reserved tokens"
        )
    words = tf.data.Dataset.from_tensor_slices(paragraphs).batch(1000)
    counts = learner.count_words(words.map(BasicTokenizer(lower_case=lower_case).tokenize))
    ceiling = search_ceiling(counts, vocab_size - len(reserved))
    vocab = learner.learn(counts, vocab_size, reserved, upper_thresh=ceiling)
    if ceiling is not None and len(vocab) > vocab_size:  # the ceiling was too low: search it all
        vocab = learner.learn(counts, vocab_size, reserved)
    return vocab[:vocab_size]


def unknown_rate(tokens: list[str], paragraphs: list[str], lower_case: bool) -> float:
    """Share of wordpieces that come out as [UNK] when tokenizing (a sample of) the input."""
    from pipelines.tokenization import WordpieceTokenizer

    pieces = WordpieceTokenizer(tokens, lower_case).tokenize(paragraphs[:20_000])
    unk_id = tokens.index("[UNK]")
    return sum(int((ids == unk_id).sum()) for ids in pieces) / max(
        sum(len(ids) for ids in pieces), 1
    )
