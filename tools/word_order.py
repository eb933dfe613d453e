"""Word-order probe for MLM models: shuffle each sequence's tokens (a bag of words) while keeping every
masked position pointing at its token, so "accuracy in order" vs "accuracy shuffled" shows whether a
model uses word order (tools/convergence.py). Pure NumPy, no flags, importable from tests.
"""

from __future__ import annotations

import numpy as np


def shuffle_words(input_ids, input_mask, positions, rng):
    """Permutes the tokens of each sequence (a bag of words) and moves the mask positions with them.

    >>> ids, pos = shuffle_words(np.array([[5, 6, 7, 0]]), np.array([[1, 1, 1, 0]]), np.array([[2, 0]]),
    ...                          np.random.default_rng(0))
    >>> bool(ids[0, pos[0, 0]] == 7 and ids[0, 3] == 0)
    True
    """
    ids, moved = input_ids.copy(), positions.copy()
    for row, length in enumerate(input_mask.sum(axis=1)):
        order = rng.permutation(length)
        ids[row, :length] = input_ids[row, order]
        moved[row] = np.where(positions[row] < length, np.argsort(order)[np.minimum(positions[row], length - 1)],
                              positions[row])
    return ids, moved
