"""What a set of pre-training records says about the recipe that made them, computed the same way
for ours and for the original scripts' records (tools/conformance.py, tests): masked share of the
non-special tokens, the 80/10/10 split, NSP balance, length distributions, and how often a "random"
replacement is a token that is not a real wordpiece ([PAD], [CLS], [unused17], …).

Pure Python/NumPy over decoded examples (dicts of lists, as pipelines.inspection.decode returns).

Example:
    >>> ex = {"input_ids": [2, 4, 9, 3, 0], "input_mask": [1, 1, 1, 1, 0], "segment_ids": [0, 0, 0, 0, 0],
    ...       "masked_lm_positions": [1, 0], "masked_lm_ids": [7, 0], "masked_lm_weights": [1.0, 0.0],
    ...       "next_sentence_labels": [0]}
    >>> s = mask_statistics([ex], mask_id=4, special_ids={0, 2, 3, 4}, max_seq_length=5)
    >>> s["masked_percent"], s["replaced_by_mask_percent"], s["nsp_random_percent"]
    (50.0, 100.0, 0.0)
"""

from __future__ import annotations

import numpy as np


def mask_statistics(examples, mask_id: int, special_ids: set[int], max_seq_length: int) -> dict:
    """Aggregate statistics of decoded examples (see the module doc); `special_ids` = the ids that
    are not real wordpieces (bert_tf.core.vocab.Vocab.non_wordpiece_ids)."""
    lengths, a_lengths, nsp = [], [], []
    predicted = non_special = by_mask = kept = replaced = replaced_not_wordpiece = 0
    for ex in examples:
        length = int(sum(ex["input_mask"]))
        ids = ex["input_ids"][:length]
        lengths.append(length)
        segments = ex["segment_ids"][:length]
        # minus [CLS] and [SEP]
        a_lengths.append((segments.index(1) if 1 in segments else length) - 2)
        nsp.append(ex["next_sentence_labels"][0])
        targets = [
            (p, label)
            for p, label, w in zip(
                ex["masked_lm_positions"], ex["masked_lm_ids"], ex["masked_lm_weights"]
            )
            if w > 0
        ]
        n_special = sum(1 for i in ids if i in special_ids and i != mask_id)
        non_special += length - n_special
        predicted += len(targets)
        for position, label in targets:
            seen = ids[position]
            if seen == mask_id:
                by_mask += 1
            elif seen == label:
                kept += 1
            else:
                replaced += 1
                replaced_not_wordpiece += seen in special_ids
    lengths = np.array(lengths)

    def percent(a: float, b: float) -> float:
        return 100.0 * a / b if b else 0.0

    return {
        "instances": len(lengths),
        "masked_percent": percent(predicted, non_special),
        "replaced_by_mask_percent": percent(by_mask, predicted),
        "kept_percent": percent(kept, predicted),
        "random_percent": percent(replaced, predicted),
        "random_not_wordpiece_percent": percent(replaced_not_wordpiece, replaced),
        "nsp_random_percent": percent(sum(nsp), len(nsp)),
        "tokens_per_instance": float(lengths.mean()),
        "short_percent": percent(int((lengths < max_seq_length // 2).sum()), len(lengths)),
        "lengths": lengths,
        "a_lengths": np.array(a_lengths),
    }


def ks_statistic(a, b) -> float:
    """Two-sample Kolmogorov–Smirnov statistic: the largest gap between the empirical CDFs."""
    a, b = np.sort(np.asarray(a)), np.sort(np.asarray(b))
    grid = np.union1d(a, b)
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.abs(cdf_a - cdf_b).max())
