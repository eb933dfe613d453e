"""The pipeline's settings, validated up front so a bad flag fails before anything is written.

Example:
    >>> PipelineConfig(inputs=("a.txt",), output_dir="out", vocab_file="v.txt", max_seq_length=4).validate()
    Traceback (most recent call last):
    ...
    pipelines.config.ConfigError: --max_seq_length must be in [5, 512], got 4
"""

from __future__ import annotations

import dataclasses

from bert_tf.core.masking import MaskingConfig
from pipelines.instances import PairingConfig
from pipelines.sentences import DEFAULT_SPLITTER, SPLITTERS
from pipelines.sources import FORMATS


class ConfigError(ValueError):
    """A flag or input the user must fix; the message names it."""


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    inputs: tuple[str, ...]
    output_dir: str
    vocab_file: str
    input_format: str = "auto"
    sentence_splitter: str = DEFAULT_SPLITTER
    do_lower_case: bool = True
    max_seq_length: int = 128
    max_predictions_per_seq: int = 20
    masked_lm_prob: float = 0.15
    short_seq_prob: float = 0.1
    short_target_per_document: bool = False
    dupe_factor: int = 10
    random_seed: int = 12345
    whole_word_mask: bool = False
    dynamic_masking: bool = False
    no_nsp: bool = False
    num_shards: int = 16
    nsp_pool_size: int = 10_000
    nsp_pool_mb: float = 16.0
    max_line_chars: int = 1_000_000

    @property
    def pairing(self) -> PairingConfig:
        return PairingConfig(
            self.max_seq_length,
            self.short_seq_prob,
            not self.no_nsp,
            self.short_target_per_document,
        )

    @property
    def masking(self) -> MaskingConfig:
        return MaskingConfig(
            self.masked_lm_prob, self.max_predictions_per_seq, self.whole_word_mask
        )

    def validate(self) -> "PipelineConfig":
        checks = [
            (
                5 <= self.max_seq_length <= 512,
                f"--max_seq_length must be in [5, 512], got {self.max_seq_length}",
            ),
            (
                0 < self.masked_lm_prob < 1,
                f"--masked_lm_prob must be in (0, 1), got {self.masked_lm_prob}",
            ),
            (
                0 <= self.short_seq_prob <= 1,
                f"--short_seq_prob must be in [0, 1], got {self.short_seq_prob}",
            ),
            (
                1 <= self.max_predictions_per_seq <= self.max_seq_length,
                f"--max_predictions_per_seq must be in [1, max_seq_length], got {self.max_predictions_per_seq}",
            ),
            (self.dupe_factor >= 1, f"--dupe_factor must be >= 1, got {self.dupe_factor}"),
            (self.num_shards >= 1, f"--num_shards must be >= 1, got {self.num_shards}"),
            (self.nsp_pool_size >= 2, f"--nsp_pool_size must be >= 2, got {self.nsp_pool_size}"),
            (self.nsp_pool_mb > 0, f"--nsp_pool_mb must be > 0, got {self.nsp_pool_mb}"),
            (
                self.input_format in FORMATS,
                f"--input_format must be one of {FORMATS}, got {self.input_format!r}",
            ),
            (
                self.sentence_splitter in SPLITTERS,
                f"--sentence_splitter must be one of {SPLITTERS}, got {self.sentence_splitter!r}",
            ),
            (bool(self.inputs), "--input is required"),
            (bool(self.output_dir), "--output_dir is required"),
            (bool(self.vocab_file), "--vocab is required"),
            (
                not (self.dynamic_masking and self.whole_word_mask),
                "--whole_word_mask with --dynamic_masking is decided when training: pass it to "
                "bert_tf.train (the records are unmasked either way)",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        return self
