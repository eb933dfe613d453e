"""Dynamic (RoBERTa-style) masking in the tf.data pipeline: records written by the pipeline with
`--dynamic_masking` hold unmasked pairs, and every batch read gets fresh masks, so each epoch sees
different masks without the pipeline's `dupe_factor` copies on disk.

The masks are drawn by the same algorithm as the pipeline's static ones
(`bert_tf.core.masking.mask_batch`: round(15% of the tokens) per sequence, never [CLS]/[SEP]/[PAD], 80%
[MASK] / 10% a random real wordpiece / 10% unchanged, whole words with `whole_word_mask`), run as a
`tf.numpy_function` on the host. Batch number k of a stream is masked with
`np.random.default_rng([seed, k])`: a seeded run repeats its masks exactly, a resumed run (which
starts its stream at batch k) draws the masks the uninterrupted run would have drawn, and evaluation
sees the same masks every time. Records the pipeline masked (the default, and google-research/bert's)
are re-masked the same way at another rate: their original ids are put back first. tensorflow-text's
`mask_language_model` was used before; it draws from TF's stateful RNG (not repeatable across a
resume) and counts whole words, not tokens, against the prediction slots.

Example:
    >>> from bert_tf.core.vocab import Vocab
    >>> vocab = Vocab.from_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "##c"])
    >>> masker = DynamicMasker(vocab, MaskingConfig(max_predictions_per_seq=2), seed=1)
    >>> batch = {"input_ids": tf.constant([[2, 5, 6, 7, 3, 0]]), "input_mask": tf.constant([[1] * 5 + [0]])}
    >>> masked = masker(batch, tf.constant(0, tf.int64))
    >>> masked["masked_lm_weights"].numpy().tolist()
    [[1.0, 0.0]]
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from bert_tf.core.masking import MaskingConfig, mask_padded, restore_original_ids
from bert_tf.core.vocab import Vocab


class DynamicMasker:
    """Callable on (a batch dict of int32 features with input_ids and input_mask, the batch's number
    in its stream) → the batch with masked input_ids and masked_lm_positions/ids/weights."""

    def __init__(self, vocab: Vocab, config: MaskingConfig, seed: int | None = None):
        self.vocab, self.config, self.seed = vocab, config, seed

    def mask_arrays(self, input_ids: np.ndarray, input_mask: np.ndarray, index, *masks) -> tuple:
        """NumPy: (masked ids, positions, label ids, weights) for one batch. `masks` (positions,
        label ids, weights) of already masked records: their original ids are restored first."""
        rng = np.random.default_rng(None if self.seed is None else [self.seed, int(index)])
        if masks:
            input_ids = restore_original_ids(input_ids, *masks)
        tokens, lengths = input_ids.astype(np.int64), input_mask.sum(axis=1).astype(np.int64)
        masked = mask_padded(tokens, lengths, self.vocab, self.config, rng)
        weights = np.arange(self.config.max_predictions_per_seq) < masked.counts[:, None]
        return (
            masked.input_ids.astype(np.int32),
            masked.positions.astype(np.int32),
            masked.label_ids.astype(np.int32),
            weights.astype(np.float32),
        )

    def __call__(self, batch: dict, index) -> dict:
        input_ids = batch["input_ids"]
        names = ("masked_lm_positions", "masked_lm_ids", "masked_lm_weights")
        masks = [batch[name] for name in names if name in batch]  # masked records: re-mask them
        outputs = tf.numpy_function(
            self.mask_arrays,
            [input_ids, batch["input_mask"], index, *masks],
            [tf.int32, tf.int32, tf.int32, tf.float32],
            stateful=False,
        )
        slots = [input_ids.shape[0], self.config.max_predictions_per_seq]
        out = dict(batch, input_ids=tf.ensure_shape(outputs[0], input_ids.shape))
        out.update({name: tf.ensure_shape(value, slots) for name, value in zip(names, outputs[1:])})
        return out
