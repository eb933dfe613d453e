"""Pins the masked-LM rules of SPEC §3 (pure Python)."""

import random
from collections import Counter

import pytest

from pipelines.masking import MaskingConfig, candidate_groups, mask_sequence, num_to_predict
from bert_tf.vocab import Vocab, VocabError

TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", "the", "bank", "play", "##ing", "##s", "river"]
VOCAB = Vocab.from_tokens(TOKENS)
CLS, SEP, MASK = VOCAB.cls_id, VOCAB.sep_id, VOCAB.mask_id
THE, BANK, PLAY, ING, S, RIVER = (VOCAB.id_of(t) for t in ("the", "bank", "play", "##ing", "##s", "river"))


@pytest.mark.parametrize("length,expected", [(128, 19), (10, 2), (3, 1), (1, 1), (1000, 20)])
def test_num_to_predict(length, expected):
    assert num_to_predict(length, MaskingConfig()) == expected


def test_vocab_rejects_missing_special_tokens():
    with pytest.raises(VocabError, match=r"\[MASK\]"):
        Vocab.from_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the"], source="v.txt")


def test_random_candidates_are_real_wordpieces():
    assert [VOCAB.tokens[i] for i in VOCAB.random_token_ids] == ["the", "bank", "play", "##ing", "##s", "river"]


def test_real_vocab_random_candidates(vocab):
    tokens = {vocab.tokens[i] for i in vocab.random_token_ids}
    assert len(vocab) == 30522 and not any(t.startswith("[") and t.endswith("]") for t in tokens)
    assert len(tokens) == 30522 - 5 - 994  # 5 specials, 994 [unusedN]


def test_specials_never_masked_and_labels_are_originals():
    tokens = [CLS] + [THE, BANK, RIVER, PLAY, ING] * 8 + [SEP] + [RIVER, BANK] * 10 + [SEP]
    for seed in range(50):
        masked = mask_sequence(tokens, VOCAB, MaskingConfig(), random.Random(seed))
        assert len(masked.positions) == num_to_predict(len(tokens), MaskingConfig())
        assert masked.positions == sorted(set(masked.positions))
        assert all(tokens[p] not in (CLS, SEP) for p in masked.positions)
        assert masked.label_ids == [tokens[p] for p in masked.positions]
        unchosen = set(range(len(tokens))) - set(masked.positions)
        assert all(masked.input_ids[p] == tokens[p] for p in unchosen)


def test_80_10_10_split_and_random_tokens_are_real():
    outcome = Counter()
    tokens = [CLS] + [THE] * 120 + [SEP]
    for seed in range(2000):
        masked = mask_sequence(tokens, VOCAB, MaskingConfig(), random.Random(seed))
        for p in masked.positions:
            new = masked.input_ids[p]
            outcome["mask" if new == MASK else "same" if new == THE else "random"] += 1
            assert new in (MASK, THE) or new in VOCAB.random_token_ids
    total = sum(outcome.values())  # 38,000 predictions: ±1 point is > 5 standard deviations
    assert abs(outcome["mask"] / total - 0.8) < 0.01
    # a random draw equal to "the" (1 in 6 here) counts as "same": expected 0.1 + 0.1/6 and 0.1 * 5/6
    assert abs(outcome["same"] / total - (0.1 + 0.1 / 6)) < 0.01
    assert abs(outcome["random"] / total - 0.1 * 5 / 6) < 0.01


def test_whole_word_groups():
    tokens = [CLS, PLAY, ING, S, THE, BANK, S, SEP, ING, SEP]
    assert candidate_groups(tokens, VOCAB, whole_word=True) == [[1, 2, 3], [4], [5, 6], [8]]
    assert candidate_groups(tokens, VOCAB, whole_word=False) == [[1], [2], [3], [4], [5], [6], [8]]


def test_whole_word_masking_masks_all_pieces_with_one_decision():
    tokens = [CLS] + [PLAY, ING, S, BANK, S] * 10 + [SEP]
    cfg = MaskingConfig(masked_lm_prob=0.15, max_predictions_per_seq=20, whole_word_mask=True)
    for seed in range(200):
        masked = mask_sequence(tokens, VOCAB, cfg, random.Random(seed))
        chosen = set(masked.positions)
        for group in candidate_groups(tokens, VOCAB, whole_word=True):
            assert set(group) <= chosen or not set(group) & chosen  # all pieces or none
            if set(group) <= chosen:
                kinds = {"mask" if masked.input_ids[p] == MASK else "other" for p in group}
                assert len(kinds) == 1  # one 80/10/10 decision for the whole word
