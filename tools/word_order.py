"""Word-order probe for MLM models: shuffle each sequence's tokens (a bag of words) while keeping every
masked position pointing at its token, so "accuracy in order" vs "accuracy shuffled" shows whether a
model uses word order (tools/convergence.py). `shuffle_words` is pure NumPy; `order_sensitivity` scores
a trained model (TensorFlow imported when called).
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
        moved[row] = np.where(
            positions[row] < length,
            np.argsort(order)[np.minimum(positions[row], length - 1)],
            positions[row],
        )
    return ids, moved


def order_sensitivity(
    model_dir: str, held_out: str, max_seq_length: int, max_predictions: int, batches: int = 20
) -> dict:
    """Held-out MLM accuracy of our model as is and with each sequence's words shuffled: a model that
    uses word order (as BERT must) loses accuracy; a bag-of-words model (the plateau) does not.
    `batches` batches of 64 sequences of the held-out records are scored."""
    from bert_tf.modeling.checkpoints import load_checkpoint_dir
    from bert_tf.training.data import make_dataset

    model = load_checkpoint_dir(model_dir)[0]
    rng, hits = np.random.default_rng(1), {"ordered": 0.0, "shuffled": 0.0}
    weight = 0.0
    records = make_dataset([held_out], 64, max_seq_length, max_predictions, is_training=False)
    for batch in records.take(batches):
        batch = {k: v.numpy() for k, v in batch.items()}
        shuffled_ids, shuffled_positions = shuffle_words(
            batch["input_ids"], batch["input_mask"], batch["masked_lm_positions"], rng
        )
        for name, ids, positions in (
            ("ordered", batch["input_ids"], batch["masked_lm_positions"]),
            ("shuffled", shuffled_ids, shuffled_positions),
        ):
            logits = model(
                {
                    "input_ids": ids,
                    "input_mask": batch["input_mask"],
                    "segment_ids": batch["segment_ids"],
                    "masked_lm_positions": positions,
                },
                training=False,
            )["mlm_logits"]
            correct = np.argmax(logits, axis=-1) == batch["masked_lm_ids"]
            hits[name] += float((correct * batch["masked_lm_weights"]).sum())
        weight += float(batch["masked_lm_weights"].sum())
    return {name: value / weight for name, value in hits.items()}
