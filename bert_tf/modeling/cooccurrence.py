"""Token embeddings that start from the corpus: a truncated SVD of the positive pointwise mutual
information (PPMI) of which tokens occur near which (Levy & Goldberg 2014; Bullinaria & Levy 2007).

Why: a small model trained from scratch first sits on the frequent-token plateau, predicting
"the , . of" until its attention finds the neighbouring words. Starting the word embeddings where
words used alike lie close ("film" near "movie", "three" near "four") lets it leave the plateau in
a fraction of the steps, and a fine-tuned classifier starts from words that already carry meaning.
Counting and factorising take seconds on the first records of the corpus; the result is an
ordinary embedding table, so checkpoints and every export format are unchanged.

Pure NumPy. Example (a toy corpus in which 5 and 6 share their neighbours):
    >>> ids = np.array([[3, 5, 4, 3, 6, 4, 3, 5, 4, 3, 6, 4, 7, 8, 7, 8]])
    >>> table = cooccurrence_embeddings(ids, vocab_size=9, width=2, skip_ids=[0], std=0.02)
    >>> table.shape, bool(cosine(table[5], table[6]) > 0.9)
    ((9, 2), True)
"""

from __future__ import annotations

import numpy as np

WINDOW = 2  # neighbours counted on each side
# Context columns: the most frequent tokens (bounds memory for big vocabularies).
MAX_CONTEXTS = 8192
# Context frequencies are raised to this power (word2vec's): rare contexts count less.
CONTEXT_SMOOTHING = 0.75


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def cooccurrence_counts(
    ids: np.ndarray,
    vocab_size: int,
    skip_ids,
    window: int = WINDOW,
    max_contexts: int = MAX_CONTEXTS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """([W, C] counts of context c within `window` positions of word w in the rows of `ids`, the W
    word ids, the C context ids): the words are the tokens that occur, the C ≤ `max_contexts`
    contexts the most frequent of them; tokens in `skip_ids` (padding, [CLS], [SEP], [MASK]) are
    neither. Memory grows with the corpus's distinct tokens, not the vocabulary.

    >>> counts, words, contexts = cooccurrence_counts(np.array([[1, 2, 3, 0]]), 9, [0], window=1)
    >>> words.tolist(), int(counts[1].sum()), int(counts[0, np.flatnonzero(contexts == 2)[0]])
    ([1, 2, 3], 2, 1)
    """
    ids = np.asarray(ids, np.int64)
    keep = np.ones(vocab_size, bool)
    keep[list(skip_ids)] = False
    frequency = np.bincount(ids[keep[ids]], minlength=vocab_size)
    words = np.flatnonzero(frequency)
    contexts = np.argsort(-frequency, kind="stable")[: min(max_contexts, len(words))]
    row, column = np.full(vocab_size, -1, np.int64), np.full(vocab_size, -1, np.int64)
    row[words], column[contexts] = np.arange(len(words)), np.arange(len(contexts))
    pairs = []
    for offset in range(1, window + 1):
        left, right = ids[:, :-offset].ravel(), ids[:, offset:].ravel()
        for word, context in ((left, right), (right, left)):
            ok = (row[word] >= 0) & (column[context] >= 0)
            pairs.append(row[word[ok]] * len(contexts) + column[context[ok]])
    size = len(words) * len(contexts)
    counts = np.bincount(np.concatenate(pairs), minlength=size).astype(np.float32)
    return counts.reshape(len(words), len(contexts)), words, contexts


def positive_pmi(counts: np.ndarray, smoothing: float = CONTEXT_SMOOTHING) -> np.ndarray:
    """max(0, log p(t, c) / (p(t) p_α(c))) with the context distribution smoothed by power α; 0
    where a pair was never seen.

    >>> [round(float(v), 3) for v in positive_pmi(np.array([[4.0, 0.0], [0.0, 4.0]]), 1.0).ravel()]
    [0.693, 0.0, 0.0, 0.693]
    """
    rows = counts.sum(axis=1, keepdims=True)
    smoothed = counts.sum(axis=0, keepdims=True) ** smoothing
    contexts = smoothed / smoothed.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(counts / (rows * contexts))
    return np.where(counts > 0, np.maximum(pmi, 0.0), 0.0).astype(np.float32)


def truncated_svd(matrix: np.ndarray, rank: int, seed: int = 0, power_iterations: int = 3):
    """(U [m, rank], singular values [rank]) of `matrix`, by randomized range finding (Halko et al.
    2011): exact to float precision when `rank` covers the matrix's rank, seconds for 8k × 8k."""
    rng = np.random.default_rng(seed)
    width = min(rank + 16, *matrix.shape)
    basis = np.linalg.qr(matrix @ rng.standard_normal((matrix.shape[1], width), np.float32))[0]
    for _ in range(power_iterations):
        basis = np.linalg.qr(matrix @ (matrix.T @ basis))[0]
    small_u, singular, _ = np.linalg.svd(basis.T @ matrix, full_matrices=False)
    return (basis @ small_u)[:, :rank], singular[:rank]


def cooccurrence_embeddings(
    ids: np.ndarray, vocab_size: int, width: int, skip_ids, std: float, seed: int = 0
) -> np.ndarray:
    """[vocab_size, width] float32: U·√S of the PPMI matrix of `ids`, scaled so the tokens seen
    have standard deviation `std` (the model's initializer range). Tokens never seen (special,
    unused) get N(0, std²) draws; with fewer seen tokens than `width`, the missing columns too."""
    counts, words, _ = cooccurrence_counts(ids, vocab_size, skip_ids)
    seen = counts.sum(axis=1) > 0
    rng = np.random.default_rng(seed)
    table = rng.normal(0.0, std, (vocab_size, width)).astype(np.float32)
    if seen.sum() < 2:
        return table
    u, singular = truncated_svd(positive_pmi(counts[seen]), width, seed)
    vectors = u * np.sqrt(singular)
    vectors *= std / max(float(vectors.std()), 1e-12)
    table[words[seen], : vectors.shape[1]] = vectors
    return table
