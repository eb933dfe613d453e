"""Our model directory out as a keras-hub preset: backbone and tokenizer, loadable with
`keras_hub.models.BertBackbone.from_preset` and `BertTokenizer.from_preset`.

    >>> save_keras_hub_preset("runs/tiny", "runs/tiny_preset")  # doctest: +SKIP
"""

from __future__ import annotations

from bert_tf.modeling.checkpoints import load_checkpoint_dir
from bert_tf.modeling.model import backbone_of


def save_keras_hub_preset(checkpoint: str, output: str, lower_case: bool = True) -> str:
    """Backbone + tokenizer of a model dir or checkpoint prefix as a preset in `output`; returns the
    checkpoint prefix. Uncased: the keras-hub tokenizer lower-cases *and* strips accents, like
    ours. Pre-LayerNorm models are refused in one line (BertBackbone has post-LN blocks only)."""
    import keras_hub

    model, vocab_file, prefix = load_checkpoint_dir(checkpoint)
    if not isinstance(backbone_of(model), keras_hub.models.BertBackbone):
        raise ValueError(
            f"{prefix} has pre-LayerNorm blocks, which keras-hub's BertBackbone preset cannot hold; "
            "export a SavedModel instead (bert_tf.export)"
        )
    backbone_of(model).save_to_preset(output)
    keras_hub.models.BertTokenizer(
        vocabulary=vocab_file, lowercase=lower_case, strip_accents=lower_case
    ).save_to_preset(output)
    return prefix
