"""Dynamic (RoBERTa-style) masking in the tf.data graph: records written by the pipeline with
`--dynamic_masking` hold unmasked pairs, and every time a batch is read it gets fresh masks, so each
epoch sees different masks without the pipeline's `dupe_factor` copies on disk.

The masking is tensorflow-text's `mask_language_model` with its `RandomItemSelector` (15% of the
maskable tokens, never [CLS]/[SEP]/[PAD], at most max_predictions_per_seq) and `MaskValuesChooser`
(80% [MASK], 10% random token, 10% unchanged). Two small differences from the pipeline's static
masks, recorded in WORKSPACE_NOTES.md: the count is ceil(15% of maskable tokens) where the original
takes round(15% of all tokens), and random tokens are drawn from the whole vocabulary.

Example:
    >>> masker = DynamicMasker(vocab_size=30522, cls_id=101, sep_id=102, mask_id=103,
    ...                        max_predictions_per_seq=20)  # doctest: +SKIP
    >>> batch = masker(unmasked_batch)  # adds masked_lm_positions/ids/weights, masks input_ids  # doctest: +SKIP
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_text as tf_text

PAD_ID = 0


class DynamicMasker:
    """Callable on a batch dict of int32 features (input_ids, input_mask, ...) → the static schema."""

    def __init__(
        self,
        vocab_size: int,
        cls_id: int,
        sep_id: int,
        mask_id: int,
        max_predictions_per_seq: int,
        masked_lm_prob: float = 0.15,
    ):
        self.max_predictions_per_seq = max_predictions_per_seq
        self.selector = tf_text.RandomItemSelector(
            max_selections_per_batch=max_predictions_per_seq,
            selection_rate=masked_lm_prob,
            unselectable_ids=[cls_id, sep_id, PAD_ID],
        )
        self.chooser = tf_text.MaskValuesChooser(
            vocab_size, mask_id, mask_token_rate=0.8, random_token_rate=0.1
        )

    def __call__(self, batch: dict) -> dict:
        input_ids = batch["input_ids"]
        lengths = tf.reduce_sum(batch["input_mask"], axis=1)
        ragged = tf.RaggedTensor.from_tensor(input_ids, lengths=lengths)
        masked_ids, positions, labels = tf_text.mask_language_model(
            ragged, self.selector, self.chooser
        )
        slots = self.max_predictions_per_seq
        out = dict(batch)
        out["input_ids"] = tf.ensure_shape(
            masked_ids.to_tensor(default_value=PAD_ID, shape=tf.shape(input_ids)), input_ids.shape
        )
        out["masked_lm_positions"] = tf.cast(positions, tf.int32).to_tensor(
            default_value=0, shape=[None, slots]
        )
        out["masked_lm_ids"] = tf.cast(labels, tf.int32).to_tensor(
            default_value=0, shape=[None, slots]
        )
        out["masked_lm_weights"] = tf.ones_like(labels, tf.float32).to_tensor(
            default_value=0.0, shape=[None, slots]
        )
        return out
