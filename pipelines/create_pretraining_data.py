"""Raw text → sharded TFRecords of masked sentence pairs + stats JSON, with Apache Beam
(docs/recipe.md §1–§4).

Runs on the local runner by default; any Beam option passes through, so the same command runs on
Dataflow:

    python -m pipelines.create_pretraining_data --input='data/*.xml.bz2' --output_dir=out \\
        --vocab=vocab.txt [--runner=DataflowRunner --project=P --region=R --temp_location=gs://b/tmp]

Writes `OUTPUT_DIR/train-00000-of-00016.tfrecord ...`, `OUTPUT_DIR/stats.json` and, last,
`OUTPUT_DIR/manifest.json` (every shard's record count and SHA-256). The run is built in a staging
directory beside OUTPUT_DIR and published whole (bert_tf/core/outputs.py): OUTPUT_DIR holds the previous
complete run or the new one, never a mixture. An OUTPUT_DIR holding an earlier run is replaced only
with --overwrite; one holding anything else is refused. Bad flags or inputs stop it before anything
is written, with a one-line error naming the flag or file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import tempfile
import time

import apache_beam as beam
from absl import flags
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from bert_tf.core import cli, original_flags, outputs
from bert_tf.core.vocab import Vocab, VocabError
from pipelines import manifest, progress, stats
from pipelines.config import ConfigError, PipelineConfig
from pipelines.runner_options import one_tensorflow_thread_per_worker, pipeline_options
from pipelines.sentences import SPLITTERS
from pipelines.sources import SNIFF_BYTES, AmbiguousFormat, detect_format
from pipelines.transforms import build_pipeline

log = logging.getLogger(__name__)

FLAGS = flags.FLAGS
_DEFAULTS = PipelineConfig(inputs=(), output_dir="", vocab_file="")
flags.DEFINE_list("input", None, "Comma-separated input files or globs (local or gs://).")
flags.DEFINE_string("output_dir", None, "Directory for the TFRecord shards and stats.json.")
flags.DEFINE_string("vocab", None, "WordPiece vocab.txt (needs [PAD] [UNK] [CLS] [SEP] [MASK]).")
flags.DEFINE_enum(
    "input_format",
    "auto",
    ["auto", "wiki", "books", "lines"],
    "wiki: pages-articles XML(.bz2); books: one book per .txt, paragraphs by blank lines; "
    "lines: one sentence per line, blank line between documents (google-research/bert's format); "
    "auto: by file name and content (an unclear text file is an error naming this flag).",
)
flags.DEFINE_enum(
    "sentence_splitter",
    _DEFAULTS.sentence_splitter,
    list(SPLITTERS),
    "Splits wiki and books paragraphs into sentences: sentencex (Wikimedia's, fast) or pysbd "
    "(slower, a little better on lists and ellipses); lines input is already one sentence a line.",
)
flags.DEFINE_bool(
    "do_lower_case", _DEFAULTS.do_lower_case, "Uncased: lower-case and strip accents."
)
flags.DEFINE_integer(
    "max_seq_length", _DEFAULTS.max_seq_length, "Tokens per instance, [CLS]/[SEP] included."
)
flags.DEFINE_integer(
    "max_predictions_per_seq", _DEFAULTS.max_predictions_per_seq, "Masked LM slots."
)
flags.DEFINE_float("masked_lm_prob", _DEFAULTS.masked_lm_prob, "Fraction of tokens to predict.")
flags.DEFINE_float(
    "short_seq_prob", _DEFAULTS.short_seq_prob, "Probability of a shorter target length."
)
flags.DEFINE_bool(
    "short_target_per_document",
    _DEFAULTS.short_target_per_document,
    "The original's rule: draw the short target once per document, not per chunk.",
)
flags.DEFINE_integer(
    "dupe_factor", _DEFAULTS.dupe_factor, "Copies of the corpus, each with different masks."
)
flags.DEFINE_integer(
    "random_seed", _DEFAULTS.random_seed, "Seed; output depends only on input, flags, seed."
)
flags.DEFINE_bool(
    "whole_word_mask", _DEFAULTS.whole_word_mask, "Mask all pieces of a word together."
)
flags.DEFINE_bool(
    "dynamic_masking",
    _DEFAULTS.dynamic_masking,
    "Write unmasked pairs (input_ids, input_mask, "
    "segment_ids, next_sentence_labels); train with bert_tf.train --dynamic_masking.",
)
flags.DEFINE_bool(
    "no_nsp", _DEFAULTS.no_nsp, "MLM only: one segment per instance, no NSP labels used."
)
flags.DEFINE_integer("num_shards", _DEFAULTS.num_shards, "Number of output TFRecord shards.")
flags.DEFINE_integer(
    "nsp_pool_size",
    _DEFAULTS.nsp_pool_size,
    "NotNext segments come from a fixed sample of at most this many documents (those with the "
    "smallest content keys; every document of a smaller corpus); each worker holds it in memory.",
)
flags.DEFINE_float(
    "nsp_pool_mb",
    _DEFAULTS.nsp_pool_mb,
    "... and at most this many million characters of text (at least 2 documents), so the sample's "
    "memory stays bounded on corpora of long documents (books).",
)
flags.DEFINE_integer(
    "max_line_chars", _DEFAULTS.max_line_chars, "Longer input lines are skipped (counted)."
)
flags.DEFINE_bool(
    "overwrite", False, "Replace an earlier run in --output_dir as a whole (never mixed with it)."
)
original_flags.define_pipeline_flags()


def config_from_flags() -> PipelineConfig:
    """The run's configuration, every field named: the only place below `main` that reads FLAGS."""
    return PipelineConfig(
        inputs=tuple(FLAGS.input or ()),
        output_dir=FLAGS.output_dir or "",
        vocab_file=FLAGS.vocab or "",
        input_format=FLAGS.input_format,
        sentence_splitter=FLAGS.sentence_splitter,
        do_lower_case=FLAGS.do_lower_case,
        max_seq_length=FLAGS.max_seq_length,
        max_predictions_per_seq=FLAGS.max_predictions_per_seq,
        masked_lm_prob=FLAGS.masked_lm_prob,
        short_seq_prob=FLAGS.short_seq_prob,
        short_target_per_document=FLAGS.short_target_per_document,
        dupe_factor=FLAGS.dupe_factor,
        random_seed=FLAGS.random_seed,
        whole_word_mask=FLAGS.whole_word_mask,
        dynamic_masking=FLAGS.dynamic_masking,
        no_nsp=FLAGS.no_nsp,
        num_shards=FLAGS.num_shards,
        nsp_pool_size=FLAGS.nsp_pool_size,
        nsp_pool_mb=FLAGS.nsp_pool_mb,
        max_line_chars=FLAGS.max_line_chars,
    )


SNIFFED_FILES = 1000  # --input_format=auto: files whose format is checked before the job starts


def check_format(paths: list[str]) -> None:
    """--input_format=auto: guesses each file's format from its first bytes now, so a file that fits
    no format well enough stops the run with a one-line error instead of being skipped by a
    worker."""
    for path in paths[:SNIFFED_FILES]:
        try:
            with FileSystems.open(path) as stream:  # decompresses .bz2/.gz
                detect_format(path, stream.read(SNIFF_BYTES))
        except AmbiguousFormat as error:
            raise ConfigError(str(error)) from None
        except (OSError, EOFError, ValueError):
            pass  # unreadable or corrupt: the job counts it as a skip of that file


def check_inputs(patterns, output_dir: str, input_format: str = "auto") -> int:
    """Every pattern must match at least one file, none inside the output directory (a run must not
    read an earlier run's output), the corpus must not be empty, and with auto-detection every
    file's format must be clear. Returns the input's total bytes (as stored: compressed files count
    compressed)."""
    total_bytes, paths = 0, []
    output = (
        output_dir.rstrip("/") if outputs.is_remote(output_dir) else os.path.abspath(output_dir)
    )
    for pattern in patterns:
        matched = FileSystems.match([pattern])[0].metadata_list
        if not matched:
            raise ConfigError(f"--input {pattern!r} matches no file")
        inside = [
            m.path
            for m in matched
            if (m.path if outputs.is_remote(m.path) else os.path.abspath(m.path)).startswith(
                output + "/"
            )
        ]
        if inside:
            raise ConfigError(
                f"--input {pattern!r} matches {inside[0]} inside --output_dir; narrow the "
                "pattern or write the output elsewhere"
            )
        total_bytes += sum(m.size_in_bytes for m in matched)
        paths += [m.path for m in matched if m.size_in_bytes]
    if total_bytes == 0:
        raise ConfigError(f"--input {','.join(patterns)!r}: every input file is empty")
    if input_format == "auto":
        check_format(paths)
    return total_bytes


def nsp_warnings(result_stats: dict, cfg: PipelineConfig) -> list[str]:
    """Signs that NotNext sampling cannot work on this corpus (e.g. a corpus read as one
    document)."""
    if cfg.no_nsp:
        return []
    labels = result_stats["nsp_labels"]
    total = labels["is_next"] + labels["is_random"]
    warnings = []
    if result_stats["documents_used"] < 2:
        warnings.append(
            f"only {result_stats['documents_used']} document(s): NotNext segments need at least 2 "
            "(is --input_format right? one sentence per line with blank lines between documents "
            "is --input_format=lines)"
        )
    if total and not 0.4 <= labels["is_random"] / total <= 0.6:
        warnings.append(
            f"NotNext share is {labels['is_random'] / total:.1%} (expected about 50%): too few or too "
            "short documents, or the wrong --input_format"
        )
    return warnings


def run(cfg: PipelineConfig, beam_args: list[str], overwrite: bool = False) -> dict:
    """Validates, runs the pipeline into a staging directory, writes stats.json and manifest.json
    there and publishes it as --output_dir; returns the stats. Raises ConfigError / OutputError."""
    cfg.validate()
    outputs.check_cloud_credentials([*cfg.inputs, cfg.output_dir, cfg.vocab_file])
    try:
        vocab = Vocab.from_file(cfg.vocab_file)
    except VocabError as error:
        raise ConfigError(f"--vocab: {error}") from None
    input_bytes = check_inputs(cfg.inputs, cfg.output_dir, cfg.input_format)
    options = pipeline_options(cfg, beam_args, input_bytes)
    previous_output = "an earlier pipeline run"
    outputs.check_target(cfg.output_dir, manifest.is_pipeline_output, previous_output, overwrite)
    with outputs.staged(cfg.output_dir, "--output_dir", marker=manifest.MANIFEST) as staging:
        result_stats = _run_into(staging, cfg, vocab, options, input_bytes)
        outputs.check_target(
            cfg.output_dir, manifest.is_pipeline_output, previous_output, overwrite
        )
    return result_stats


def _run_into(
    staging: str, cfg: PipelineConfig, vocab: Vocab, options: PipelineOptions, input_bytes: int
) -> dict:
    """The Beam job with its shards written into `staging`, then stats.json and manifest.json
    (last)."""
    started = time.time()
    with _progress_shown(staging, input_bytes, sampling=not cfg.no_nsp) as progress_dir:
        with one_tensorflow_thread_per_worker(options), beam.Pipeline(options=options) as pipeline:
            build_pipeline(
                pipeline, dataclasses.replace(cfg, output_dir=staging), vocab, progress_dir
            )
    flags_used = dataclasses.asdict(cfg)
    result_stats = stats.stats_from_counters(stats.counters_of(pipeline.result), flags_used)
    result_stats["wall_seconds"] = round(time.time() - started, 1)
    if result_stats["instances"] == 0:
        raise ConfigError(
            f"--input {','.join(cfg.inputs)!r}: no training instance could be made "
            f"(documents read {result_stats['documents_read']}, skipped {result_stats['skipped']}); "
            f"{cfg.output_dir} is unchanged"
        )
    result_stats["warnings"] = nsp_warnings(result_stats, cfg)
    for warning in result_stats["warnings"]:
        log.warning("%s", warning)
    run_manifest = manifest.assemble(staging, cfg.num_shards, flags_used)
    if run_manifest["records"] != result_stats["instances"]:
        raise RuntimeError(
            f"shards hold {run_manifest['records']} records, counters say "
            f"{result_stats['instances']} instances"
        )
    stats.write_json_atomically(f"{staging}/{manifest.STATS}", result_stats)
    manifest.write(staging, run_manifest)
    return result_stats


@contextlib.contextmanager
def _progress_shown(staging: str, input_bytes: int, sampling: bool):
    """On a local run (its staging dir is local), a directory the workers report progress to, shown
    as one line while the job runs (pipelines/progress.py); remote runs show Beam counters instead
    (None). It lives in the staging directory, so a killed run's is removed with the rest of what
    it left."""
    if outputs.is_remote(staging):
        yield None
        return
    with (
        tempfile.TemporaryDirectory(prefix=".progress-", dir=staging) as directory,
        progress.ProgressLine(directory, input_bytes, sampling),
    ):
        yield directory


def parse_known_flags(argv: list[str]) -> list[str]:
    """Our flags are parsed; the rest (Beam's --runner, --project, ...) is passed on to Beam."""
    return FLAGS(argv, known_only=True)


def main(argv):
    beam_args = argv[1:]
    result = run(config_from_flags(), beam_args, FLAGS.overwrite)
    warned = (
        f"; {len(result['warnings'])} warning(s), see above and stats.json"
        if result["warnings"]
        else ""
    )
    print(
        f"wrote {result['instances']} instances from {result['documents_used']} documents to "
        f"{FLAGS.output_dir} in {result['wall_seconds']} s (stats: {FLAGS.output_dir}/stats.json, "
        f"manifest: {FLAGS.output_dir}/manifest.json){warned}"
    )


command = cli.command(main, flags_parser=parse_known_flags)  # the installed console command

if __name__ == "__main__":
    command()
