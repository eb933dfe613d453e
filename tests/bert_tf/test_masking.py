"""Pins the masked-LM rules of the original recipe (pure NumPy)."""

from collections import Counter

import numpy as np
import pytest

from bert_tf.core.masking import (
    MaskingConfig,
    MaskingDraws,
    mask_batch,
    mask_with_draws,
    num_to_predict,
    padded_rows,
    word_starts,
)
from bert_tf.core.vocab import Vocab, VocabError

TOKENS = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "[unused0]",
    "the",
    "bank",
    "play",
    "##ing",
    "##s",
    "river",
]
VOCAB = Vocab.from_tokens(TOKENS)
CLS, SEP, MASK = VOCAB.cls_id, VOCAB.sep_id, VOCAB.mask_id
THE, BANK, PLAY, ING, S, RIVER = (
    VOCAB.id_of(t) for t in ("the", "bank", "play", "##ing", "##s", "river")
)


@pytest.mark.parametrize("length,expected", [(128, 19), (10, 2), (3, 1), (1, 1), (1000, 20)])
def test_num_to_predict(length, expected):
    assert num_to_predict(length, MaskingConfig()) == expected


def test_vocab_rejects_missing_special_tokens():
    with pytest.raises(VocabError, match=r"\[MASK\]"):
        Vocab.from_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the"], source="v.txt")


def test_random_candidates_are_real_wordpieces():
    assert [VOCAB.tokens[i] for i in VOCAB.random_token_ids] == [
        "the",
        "bank",
        "play",
        "##ing",
        "##s",
        "river",
    ]


def test_real_vocab_random_candidates(vocab):
    tokens = {vocab.tokens[i] for i in vocab.random_token_ids}
    assert len(vocab) == 30522 and not any(t.startswith("[") and t.endswith("]") for t in tokens)
    assert len(tokens) == 30522 - 5 - 994  # 5 specials, 994 [unusedN]


def masked_rows(sequences, config=MaskingConfig(), seed=0, width=128):
    """(input ids, positions, labels) per sequence, unpadded."""
    batch = mask_batch(sequences, VOCAB, config, np.random.default_rng(seed), width)
    return [
        (
            batch.input_ids[i, : len(s)].tolist(),
            batch.positions[i, : batch.counts[i]].tolist(),
            batch.label_ids[i, : batch.counts[i]].tolist(),
        )
        for i, s in enumerate(sequences)
    ]


def test_specials_never_masked_and_labels_are_originals():
    tokens = [CLS] + [THE, BANK, RIVER, PLAY, ING] * 8 + [SEP] + [RIVER, BANK] * 10 + [SEP]
    short = [CLS, THE, SEP, RIVER, SEP]
    for seed in range(50):
        for sequence, (input_ids, positions, labels) in zip(
            [tokens, short], masked_rows([tokens, short], seed=seed)
        ):
            assert len(positions) == num_to_predict(len(sequence), MaskingConfig())
            assert positions == sorted(set(positions))
            assert all(sequence[p] not in (CLS, SEP) for p in positions)
            assert labels == [sequence[p] for p in positions]
            unchosen = set(range(len(sequence))) - set(positions)
            assert all(input_ids[p] == sequence[p] for p in unchosen)


def test_every_candidate_equally_likely():
    tokens = [CLS] + [THE] * 20 + [SEP]  # 20 candidates, 3 chosen per sequence
    counts = Counter(
        p
        for seed in range(300)
        for _, positions, _ in masked_rows([tokens] * 10, seed=seed)
        for p in positions
    )
    assert set(counts) == set(range(1, 21))
    assert max(counts.values()) / min(counts.values()) < 1.3  # 450 expected per position


def test_sequence_without_candidates_gets_no_prediction():
    assert masked_rows([[CLS, SEP]]) == [([CLS, SEP], [], [])]


def test_80_10_10_split_and_random_tokens_are_real():
    outcome = Counter()
    tokens = [CLS] + [THE] * 120 + [SEP]
    for seed in range(200):
        for input_ids, positions, _ in masked_rows([tokens] * 10, seed=seed):
            for p in positions:
                new = input_ids[p]
                outcome["mask" if new == MASK else "same" if new == THE else "random"] += 1
                assert new in (MASK, THE) or new in VOCAB.random_token_ids
    total = sum(outcome.values())  # 38,000 predictions: ±1 point is > 5 standard deviations
    assert abs(outcome["mask"] / total - 0.8) < 0.01
    # a random draw equal to "the" (1 in 6 here) counts as "same": expected 0.1 + 0.1/6 and 0.1 * 5/6
    assert abs(outcome["same"] / total - (0.1 + 0.1 / 6)) < 0.01
    assert abs(outcome["random"] / total - 0.1 * 5 / 6) < 0.01


def word_groups(tokens):
    """Candidate positions grouped into words, from word_starts."""
    array = padded_rows([tokens], len(tokens))
    candidate = ~VOCAB.never_masked[array]
    groups = []
    for position in np.flatnonzero(candidate[0]).tolist():
        if word_starts(array, candidate, VOCAB)[0, position]:
            groups.append([position])
        else:
            groups[-1].append(position)
    return groups


def test_whole_word_groups():
    assert word_groups([CLS, PLAY, ING, S, THE, BANK, S, SEP, ING, SEP]) == [
        [1, 2, 3],
        [4],
        [5, 6],
        [8],
    ]


def test_whole_word_masking_masks_all_pieces_with_one_decision():
    tokens = [CLS] + [PLAY, ING, S, BANK, S] * 10 + [SEP]
    cfg = MaskingConfig(masked_lm_prob=0.15, max_predictions_per_seq=20, whole_word_mask=True)
    for seed in range(200):
        ((input_ids, positions, _),) = masked_rows([tokens], cfg, seed)
        chosen = set(positions)
        assert 0 < len(chosen) <= num_to_predict(len(tokens), cfg)
        for group in word_groups(tokens):
            assert set(group) <= chosen or not set(group) & chosen  # all pieces or none
            if set(group) <= chosen:
                kinds = {"mask" if input_ids[p] == MASK else "other" for p in group}
                assert len(kinds) == 1  # one 80/10/10 decision for the whole word


def test_whole_word_budget_skips_words_that_do_not_fit():
    tokens = [
        CLS,
        PLAY,
        ING,
        S,
        THE,
        SEP,
    ]  # budget 1: the 3-piece word never fits, "the" always does
    cfg = MaskingConfig(whole_word_mask=True)
    assert {tuple(masked_rows([tokens], cfg, seed)[0][1]) for seed in range(30)} == {(4,)}


def test_rows_longer_than_the_width_are_refused():
    with pytest.raises(ValueError, match="do not fit"):
        padded_rows([[1, 2, 3]], 2)


@pytest.mark.parametrize("whole_word_mask", [False, True])
def test_groups_masked_in_one_call_equal_each_group_masked_alone(whole_word_mask):
    """The pipeline masks all dupes of a document in one call, each dupe with its own generator."""
    config = MaskingConfig(
        masked_lm_prob=0.3, max_predictions_per_seq=4, whole_word_mask=whole_word_mask
    )
    rng = np.random.default_rng(7)
    groups = [
        [[CLS, *rng.choice([THE, BANK, PLAY, ING, S, RIVER], size=n).tolist(), SEP] for n in sizes]
        for sizes in ([5, 9, 3], [12], [7, 7])
    ]
    alone = [
        mask_batch(g, VOCAB, config, np.random.default_rng(seed), 16)
        for seed, g in enumerate(groups)
    ]
    rows = [s for g in groups for s in g]
    draws = MaskingDraws.stacked(
        [
            MaskingDraws.draw(np.random.default_rng(seed), (len(g), 16), VOCAB)
            for seed, g in enumerate(groups)
        ]
    )
    together = mask_with_draws(
        padded_rows(rows, 16), np.array([len(s) for s in rows]), VOCAB, config, draws
    )
    for field in ("input_ids", "positions", "label_ids", "counts"):
        expected = np.concatenate([getattr(batch, field) for batch in alone])
        np.testing.assert_array_equal(getattr(together, field), expected)
