"""Pins every pairing rule of docs/recipe.md §3 on controlled documents (pure Python, no TF, no Beam)."""

import random

import pytest

from pipelines.instances import (
    PairingConfig,
    create_pairs_from_document,
    document_rng,
    draw_other_document,
    truncate_seq_pair,
)


def make_doc(doc_id: int, sentence_lengths) -> list[list[int]]:
    """Sentences with globally unique ids: doc d, sentence s, token t → d*10000 + s*100 + t."""
    return [
        [doc_id * 10000 + s * 100 + t for t in range(n)] for s, n in enumerate(sentence_lengths)
    ]


def doc_of(token: int) -> int:
    return token // 10000


def sentence_of(token: int) -> tuple[int, int]:
    return token // 10000, (token % 10000) // 100


class ScriptedRng(random.Random):
    """random.Random whose `random()` returns scripted values first (then falls back to seeded draws)."""

    def __init__(self, randoms, seed=0):
        super().__init__(seed)
        self._randoms = list(randoms)

    def random(self):
        return self._randoms.pop(0) if self._randoms else super().random()

    def getrandbits(
        self, k
    ):  # defined so that randint() keeps using bits, not the scripted random()
        return super().getrandbits(k)


def test_document_rng_depends_only_on_seed_dupe_and_key():
    def draws(*args):
        return [document_rng(*args).random() for _ in range(3)]

    assert draws(12345, 0, "abc") == draws(12345, 0, "abc")
    assert draws(12345, 0, "abc") != draws(12345, 1, "abc")
    assert draws(12345, 0, "abc") != draws(12345, 0, "abd")
    assert draws(12345, 0, "abc") != draws(1, 0, "abc")


def test_truncate_removes_from_longer_segment_front_or_back():
    a, b = list(range(10)), [100, 101, 102]
    truncate_seq_pair(a, b, 8, ScriptedRng([0.1, 0.9, 0.1, 0.9, 0.1]))
    assert a == [3, 4, 5, 6, 7] and b == [100, 101, 102]  # front, back, front, back, front
    a, b = [1, 2], [3, 4]
    truncate_seq_pair(a, b, 3, ScriptedRng([0.9]))
    assert (a, b) == ([1, 2], [3])  # equal lengths: B is trimmed, as in the original


def test_truncate_is_noop_when_short_enough():
    a, b = [1, 2], [3]
    truncate_seq_pair(a, b, 3, random.Random(0))
    assert (a, b) == ([1, 2], [3])


def test_draw_other_document_is_never_the_same_document():
    pool = [make_doc(d, [3]) for d in range(3)]
    rng = random.Random(0)
    drawn = {doc_of(draw_other_document(pool, 1, rng)[0][0]) for _ in range(200)}
    assert drawn == {0, 2}
    assert draw_other_document(pool[:1], 0, rng) is None


@pytest.mark.parametrize("seed", range(30))
def test_pairs_fit_and_are_well_formed(seed):
    rng = random.Random(seed)
    pool = [make_doc(d, [rng.randint(1, 30) for _ in range(rng.randint(1, 12))]) for d in range(5)]
    cfg = PairingConfig(max_seq_length=32, short_seq_prob=0.1)
    for index, doc in enumerate(pool):
        for pair in create_pairs_from_document(index, pool, cfg, random.Random(seed * 7 + index)):
            assert 1 <= len(pair.tokens_a) and 1 <= len(pair.tokens_b)
            assert len(pair.tokens_a) + len(pair.tokens_b) <= cfg.max_num_tokens == 29
            assert all(doc_of(t) == index for t in pair.tokens_a)
            b_docs = {doc_of(t) for t in pair.tokens_b}
            assert (
                b_docs == ({index} if not pair.is_random_next else b_docs - {index})
                and len(b_docs) == 1
            )


def test_is_next_b_continues_a_with_whole_sentences():
    pool = [make_doc(0, [4] * 12), make_doc(1, [4] * 5)]
    # target 36 = 9 whole sentences: no truncation
    cfg = PairingConfig(max_seq_length=39, short_seq_prob=0.0)
    pairs = [
        p
        for seed in range(10)
        for p in create_pairs_from_document(0, pool, cfg, random.Random(seed))
    ]
    is_next = [p for p in pairs if not p.is_random_next]
    assert len(is_next) >= 5
    for pair in is_next:  # no truncation needed here: whole sentences, B right after A
        tokens = pair.tokens_a + pair.tokens_b
        assert tokens == sorted(tokens)  # document order
        # start at sentence starts
        assert pair.tokens_a[0] % 100 == 0 and pair.tokens_b[0] % 100 == 0
        assert sentence_of(pair.tokens_b[0])[1] == sentence_of(pair.tokens_a[-1])[1] + 1


def test_not_next_puts_unused_sentences_back():
    """Every sentence of the document ends up in some segment A or IsNext-B (nothing is lost)."""
    pool = [make_doc(0, [3] * 40), make_doc(1, [3] * 40)]
    cfg = PairingConfig(max_seq_length=20, short_seq_prob=0.0)
    for seed in range(20):
        pairs = create_pairs_from_document(0, pool, cfg, random.Random(seed))
        covered = {
            sentence_of(t)
            for p in pairs
            for t in p.tokens_a + ([] if p.is_random_next else p.tokens_b)
        }
        assert covered == {(0, s) for s in range(40)}
        assert any(p.is_random_next for p in pairs) and any(not p.is_random_next for p in pairs)


def test_random_next_fraction_is_about_half():
    pool = [make_doc(d, [5] * 30) for d in range(10)]
    cfg = PairingConfig(max_seq_length=40, short_seq_prob=0.0)
    pairs = [
        p
        for i in range(10)
        for seed in range(20)
        for p in create_pairs_from_document(i, pool, cfg, random.Random(seed * 100 + i))
    ]
    fraction = sum(p.is_random_next for p in pairs) / len(pairs)
    # a bit above 0.5: last one-sentence chunks are always random
    assert 0.45 < fraction < 0.6, fraction


def test_target_length_short_seq_prob():
    pool = [make_doc(0, [1] * 600), make_doc(1, [1] * 600)]
    long = create_pairs_from_document(
        0, pool, PairingConfig(max_seq_length=64, short_seq_prob=0.0), random.Random(1)
    )
    # every chunk fills the target
    assert all(len(p.tokens_a) + len(p.tokens_b) == 61 for p in long[:-1])
    short = create_pairs_from_document(
        0, pool, PairingConfig(max_seq_length=64, short_seq_prob=1.0), random.Random(1)
    )
    lengths = [len(p.tokens_a) + len(p.tokens_b) for p in short]
    assert min(lengths) >= 2 and max(lengths) <= 61 and len(set(lengths)) > 10  # re-drawn per chunk
    original = PairingConfig(max_seq_length=64, short_seq_prob=1.0, short_target_per_document=True)
    lengths = [
        len(p.tokens_a) + len(p.tokens_b)
        for p in create_pairs_from_document(0, pool, original, random.Random(1))
    ]
    # the original: one short target per document
    assert len(set(lengths[:-1])) == 1 and lengths[0] < 61


def test_one_sentence_documents_are_always_not_next():
    pool = [make_doc(d, [6]) for d in range(4)]
    cfg = PairingConfig(max_seq_length=32)
    for i in range(4):
        (pair,) = create_pairs_from_document(i, pool, cfg, random.Random(i))
        assert pair.is_random_next and pair.tokens_a == pool[i][0]


def test_one_document_corpus_has_only_is_next_pairs():
    pool = [make_doc(0, [5, 1, 7, 3, 4, 2, 6])]
    cfg = PairingConfig(max_seq_length=16, short_seq_prob=0.0)
    for seed in range(20):
        pairs = create_pairs_from_document(0, pool, cfg, random.Random(seed))
        assert pairs and not any(p.is_random_next for p in pairs)
    assert create_pairs_from_document(0, [make_doc(0, [5])], cfg, random.Random(0)) == []


def test_document_shorter_than_two_tokens_gets_a_random_b():
    pool = [make_doc(0, [1]), make_doc(1, [4, 4])]
    (pair,) = create_pairs_from_document(
        0, pool, PairingConfig(max_seq_length=16), random.Random(0)
    )
    assert pair.tokens_a == [0] and pair.is_random_next and doc_of(pair.tokens_b[0]) == 1


def test_empty_sentences_are_ignored():
    pool = [[[], [1, 2], []], make_doc(1, [3])]
    pairs = create_pairs_from_document(0, pool, PairingConfig(max_seq_length=16), random.Random(0))
    assert [p.tokens_a for p in pairs] == [[1, 2]]


def test_sequence_exactly_at_max_length_is_not_truncated():
    pool = [make_doc(0, [60, 65]), make_doc(1, [3])]  # 125 = max_num_tokens for L128
    cfg = PairingConfig(max_seq_length=128, short_seq_prob=0.0)
    for seed in range(10):
        # no short; IsNext
        pairs = create_pairs_from_document(0, pool, cfg, ScriptedRng([0.5, 0.9], seed))
        assert len(pairs) == 1 and not pairs[0].is_random_next
        assert (len(pairs[0].tokens_a), len(pairs[0].tokens_b)) == (60, 65)


def test_without_nsp_segments_fill_the_target_with_whole_sentences():
    pool = [make_doc(0, [5] * 20)]
    cfg = PairingConfig(max_seq_length=32, short_seq_prob=0.0, next_sentence_prediction=False)
    pairs = create_pairs_from_document(0, pool, cfg, random.Random(0))
    assert cfg.max_num_tokens == 30
    assert all(
        p.tokens_b == [] and not p.is_random_next and len(p.tokens_a) == 30 for p in pairs[:-1]
    )
    assert sum(len(p.tokens_a) for p in pairs) == 100
