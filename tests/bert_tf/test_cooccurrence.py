"""The co-occurrence start of the token embeddings: counts, PPMI, the truncated SVD and the table
(pure NumPy), and the training records it reads, with their masks undone."""

import numpy as np

from bert_tf.modeling.cooccurrence import (
    cooccurrence_counts,
    cooccurrence_embeddings,
    cosine,
    positive_pmi,
    truncated_svd,
)
from bert_tf.training.data import sample_token_ids


def test_counts_are_symmetric_within_the_window_and_skip_special_ids():
    ids = np.array([[1, 5, 6, 7, 2, 0, 0]])  # [CLS]=1 [SEP]=2 padding=0 are not words
    counts, words, contexts = cooccurrence_counts(ids, vocab_size=8, skip_ids=[0, 1, 2], window=2)
    assert words.tolist() == [5, 6, 7] and sorted(contexts.tolist()) == [5, 6, 7]
    row = {int(w): i for i, w in enumerate(words)}
    column = {int(c): i for i, c in enumerate(contexts)}
    assert counts[row[5], column[6]] == counts[row[6], column[5]] == 1
    assert counts[row[5], column[7]] == 1  # two apart: inside the window
    assert counts.sum() == 6
    narrow, _, _ = cooccurrence_counts(ids, vocab_size=8, skip_ids=[0, 1, 2], window=1)
    assert narrow.sum() == 4
    few, words, contexts = cooccurrence_counts(
        np.array([[5, 5, 5, 6, 6, 7]]), 8, [0], max_contexts=2
    )
    assert contexts.tolist() == [5, 6] and few.shape == (3, 2)


def test_ppmi_is_zero_for_unseen_and_below_chance_pairs():
    counts = np.array([[10.0, 0.0, 1.0], [0.0, 10.0, 1.0], [1.0, 1.0, 10.0]])
    ppmi = positive_pmi(counts, smoothing=1.0)
    assert ppmi[0, 1] == 0 and (ppmi >= 0).all() and ppmi[0, 0] > ppmi[0, 2] == 0


def test_truncated_svd_recovers_a_low_rank_matrix():
    rng = np.random.default_rng(1)
    matrix = (rng.normal(size=(60, 5)) @ rng.normal(size=(5, 40))).astype(np.float32)
    u, singular = truncated_svd(matrix, rank=5)
    expected = np.linalg.svd(matrix, compute_uv=False)[:5]
    np.testing.assert_allclose(singular, expected, rtol=1e-4)
    np.testing.assert_allclose(u.T @ u, np.eye(5), atol=1e-4)


def test_words_used_alike_start_close_and_unseen_tokens_start_random():
    """Two 'topics': 10/11 share neighbours 20/21, 12/13 share 30/31; token 40 never occurs."""
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(300):
        topic = rng.integers(2)
        word = rng.choice([10, 11]) if topic == 0 else rng.choice([12, 13])
        left, right = ([20, 21] if topic == 0 else [30, 31])[:: rng.choice([1, -1])]
        rows.append([left, word, right, 1, 1])
    table = cooccurrence_embeddings(np.array(rows), 50, width=4, skip_ids=[0, 1], std=0.05)
    assert table.shape == (50, 4) and table.dtype == np.float32
    assert cosine(table[10], table[11]) > 0.9 and cosine(table[12], table[13]) > 0.9
    assert cosine(table[10], table[12]) < 0.5
    seen = [10, 11, 12, 13, 20, 21, 30, 31]
    assert abs(float(table[seen].std()) - 0.05) < 1e-3
    assert 0 < float(np.abs(table[40]).max()) < 0.3  # a random draw at the same scale
    empty = cooccurrence_embeddings(np.zeros((3, 5), int), 50, 4, skip_ids=[0], std=0.05)
    assert empty.shape == (50, 4)


def test_sample_token_ids_undoes_the_records_masks(pretraining_records, vocab):
    pattern = [pretraining_records["pattern"]]
    ids = sample_token_ids(pattern, 40, 64, 10, masked=True)
    assert ids.shape == (40, 64)
    assert not (ids == vocab.mask_id).any()  # every [MASK] has its word back
    assert (ids[:, 0] == vocab.cls_id).all()
    as_stored = sample_token_ids(pattern, 40, 64, 10, masked=False)
    assert (as_stored == vocab.mask_id).any()
