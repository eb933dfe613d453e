"""BertConfig: model sizes by name (tiny … large) and the original `bert_config.json` format.

The field names are exactly the original's, so a google-research `bert_config.json` loads unchanged.

Example:
    >>> cfg = BertConfig.named("tiny", vocab_size=30522)
    >>> cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size
    (2, 128, 2, 512)
"""

from __future__ import annotations

import dataclasses
import json

from bert_tf.core import storage

# name: (layers, hidden); heads = hidden / 64, intermediate = 4 * hidden (Turc et al. 2019, BERT).
NAMED_SIZES = {
    "tiny": (2, 128),
    "mini": (4, 256),
    "small": (4, 512),
    "medium": (8, 512),
    "base": (12, 768),
    "large": (24, 1024),
}
_GELU_NAMES = ("gelu", "gelu_new", "gelu_approximate")


@dataclasses.dataclass(frozen=True)
class BertConfig:
    vocab_size: int
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    # Not in the original format: pre-LayerNorm blocks + a final LayerNorm (bert_tf/modeling/pre_layer_norm.py).
    # Written to bert_config.json only when true, so post-LN files stay the original's.
    pre_layer_norm: bool = False

    @classmethod
    def named(cls, name: str, vocab_size: int, **overrides) -> "BertConfig":
        if name not in NAMED_SIZES:
            raise ValueError(f"unknown model size {name!r}; expected one of {sorted(NAMED_SIZES)}")
        layers, hidden = NAMED_SIZES[name]
        return cls(
            vocab_size=vocab_size,
            hidden_size=hidden,
            num_hidden_layers=layers,
            num_attention_heads=hidden // 64,
            intermediate_size=4 * hidden,
            **overrides,
        ).validate()

    @classmethod
    def from_dict(cls, values: dict) -> "BertConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known}).validate()

    @classmethod
    def from_json_file(cls, path: str) -> "BertConfig":

        with storage.open_file(path) as f:
            return cls.from_dict(json.load(f))

    @classmethod
    def from_name_or_file(cls, spec: str, vocab_size: int | None) -> "BertConfig":
        """`spec` is a size name (needs `vocab_size`) or a bert_config.json path."""
        if spec in NAMED_SIZES:
            if vocab_size is None:
                raise ValueError(f"--bert_config={spec} needs the vocabulary size (--vocab)")
            return cls.named(spec, vocab_size)
        config = cls.from_json_file(spec)
        if vocab_size is not None and vocab_size != config.vocab_size:
            raise ValueError(
                f"{spec}: vocab_size {config.vocab_size} != {vocab_size} tokens in --vocab"
            )
        return config

    def to_json_file(self, path: str) -> None:

        values = dataclasses.asdict(self)
        if not self.pre_layer_norm:
            del values["pre_layer_norm"]
        with storage.written_whole(path) as f:
            json.dump(values, f, indent=2, sort_keys=True)

    def validate(self) -> "BertConfig":
        """keras-hub's BertBackbone fixes some choices; refuse configs it cannot represent."""
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size {self.hidden_size} not divisible by {self.num_attention_heads} heads"
            )
        if self.hidden_act not in _GELU_NAMES:
            raise ValueError(f"hidden_act {self.hidden_act!r} unsupported: BERT uses gelu")
        if not self.initializer_range > 0:
            raise ValueError(f"initializer_range {self.initializer_range}: must be > 0")
        if self.initializer_range != 0.02 and not self.pre_layer_norm:
            raise ValueError(
                f"initializer_range {self.initializer_range} unsupported: keras-hub's BertBackbone "
                "draws its weights at 0.02 (pre_layer_norm models take any)"
            )
        if self.hidden_dropout_prob != self.attention_probs_dropout_prob:
            raise ValueError(
                "keras-hub's BertBackbone uses one dropout rate for hidden and attention"
            )
        return self
