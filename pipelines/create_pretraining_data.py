"""Raw text → sharded TFRecords of masked sentence pairs + stats JSON (SPEC §1–§4), with Apache Beam.

Runs on the local runner by default; any Beam option passes through, so the same command runs on
Dataflow:

    python -m pipelines.create_pretraining_data --input='data/*.xml.bz2' --output_dir=out \\
        --vocab=vocab.txt [--runner=DataflowRunner --project=P --region=R --temp_location=gs://b/tmp]

Writes `OUTPUT_DIR/train-00000-of-00016.tfrecord ...` and `OUTPUT_DIR/stats.json`. Bad flags or
inputs stop it before anything is written, with a one-line error naming the flag or file.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time

import apache_beam as beam
from absl import app, flags
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, SetupOptions, StandardOptions, WorkerOptions

from pipelines import stats
from pipelines.config import ConfigError, PipelineConfig
from pipelines.shards import shard_glob
from pipelines.transforms import build_pipeline
from pipelines.vocab import Vocab, VocabError

FLAGS = flags.FLAGS
_DEFAULTS = PipelineConfig(inputs=(), output_dir="", vocab_file="")
flags.DEFINE_list("input", None, "Comma-separated input files or globs (local or gs://).")
flags.DEFINE_string("output_dir", None, "Directory for the TFRecord shards and stats.json.")
flags.DEFINE_string("vocab", None, "WordPiece vocab.txt (needs [PAD] [UNK] [CLS] [SEP] [MASK]).")
flags.DEFINE_enum("input_format", "auto", ["auto", "wiki", "books", "lines"],
                  "wiki: pages-articles XML(.bz2); books: one book per .txt, paragraphs by blank lines; "
                  "lines: one sentence per line, blank line between documents; auto: by file name.")
flags.DEFINE_bool("do_lower_case", _DEFAULTS.do_lower_case, "Uncased: lower-case and strip accents.")
flags.DEFINE_integer("max_seq_length", _DEFAULTS.max_seq_length, "Tokens per instance, [CLS]/[SEP] included.")
flags.DEFINE_integer("max_predictions_per_seq", _DEFAULTS.max_predictions_per_seq, "Masked LM slots.")
flags.DEFINE_float("masked_lm_prob", _DEFAULTS.masked_lm_prob, "Fraction of tokens to predict.")
flags.DEFINE_float("short_seq_prob", _DEFAULTS.short_seq_prob, "Probability of a shorter target length.")
flags.DEFINE_bool("short_target_per_document", _DEFAULTS.short_target_per_document,
                  "The original's rule: draw the short target once per document, not per chunk.")
flags.DEFINE_integer("dupe_factor", _DEFAULTS.dupe_factor, "Copies of the corpus, each with different masks.")
flags.DEFINE_integer("random_seed", _DEFAULTS.random_seed, "Seed; output depends only on input, flags, seed.")
flags.DEFINE_bool("whole_word_mask", _DEFAULTS.whole_word_mask, "Mask all pieces of a word together.")
flags.DEFINE_bool("dynamic_masking", _DEFAULTS.dynamic_masking, "Write unmasked pairs (input_ids, input_mask, "
                  "segment_ids, next_sentence_labels); train with bert_tf.train --dynamic_masking.")
flags.DEFINE_bool("no_nsp", _DEFAULTS.no_nsp, "MLM only: one segment per instance, no NSP labels used.")
flags.DEFINE_integer("num_shards", _DEFAULTS.num_shards, "Number of output TFRecord shards.")
flags.DEFINE_integer("nsp_pool_size", _DEFAULTS.nsp_pool_size,
                     "Documents per NSP pool: NotNext segments come from the same pool (memory bound).")
flags.DEFINE_integer("max_line_chars", _DEFAULTS.max_line_chars, "Longer input lines are skipped (counted).")


def config_from_flags() -> PipelineConfig:
    return PipelineConfig(
        inputs=tuple(FLAGS.input or ()), output_dir=FLAGS.output_dir or "", vocab_file=FLAGS.vocab or "",
        **{f.name: FLAGS[f.name].value for f in dataclasses.fields(PipelineConfig)
           if f.name not in ("inputs", "output_dir", "vocab_file")})


def check_inputs(patterns) -> None:
    """Every pattern must match at least one file, and the corpus must not be empty."""
    total_bytes = 0
    for pattern in patterns:
        matched = FileSystems.match([pattern])[0].metadata_list
        if not matched:
            raise ConfigError(f"--input {pattern!r} matches no file")
        total_bytes += sum(m.size_in_bytes for m in matched)
    if total_bytes == 0:
        raise ConfigError(f"--input {','.join(patterns)!r}: every input file is empty")


def remove_shards(output_dir: str) -> None:
    matches = FileSystems.match([shard_glob(output_dir)])[0].metadata_list
    if matches:
        FileSystems.delete([m.path for m in matches])


LOCAL_RUNNERS = ("FnApiRunner", "DirectRunner", "BundleBasedDirectRunner", "PrismRunner", "InteractiveRunner")
SETUP_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "setup.py")


def pipeline_options(cfg: PipelineConfig, beam_args: list[str]) -> PipelineOptions:
    """Beam options from the command line. Locally: FnApiRunner. On a remote runner (Dataflow, Flink,
    Spark): inputs and output must be on a filesystem the workers can read, and the workers get this
    project and its dependencies through setup.py unless --setup_file/--requirements_file/a container
    image says otherwise. (The vocab is read here and shipped inside the job.)"""
    options = PipelineOptions(beam_args)
    standard = options.view_as(StandardOptions)
    if standard.runner is None:
        # Beam's DirectRunner first tries to download the Prism runner from GitHub (impossible
        # offline) and then falls back to this same FnApiRunner; go there directly.
        standard.runner = "FnApiRunner"
    if standard.runner.split(".")[-1] in LOCAL_RUNNERS:
        return options
    local = [path for path in (*cfg.inputs, cfg.output_dir) if "://" not in path]
    if local:
        raise ConfigError(f"--runner={standard.runner} runs on remote workers: {local} must be on a shared "
                          f"filesystem such as gs://bucket/...")
    setup = options.view_as(SetupOptions)
    if not (setup.setup_file or setup.requirements_file or options.view_as(WorkerOptions).sdk_container_image):
        setup.setup_file = SETUP_FILE
    return options


def run(cfg: PipelineConfig, beam_args: list[str]) -> dict:
    """Validates, runs the pipeline, writes stats.json; returns the stats. Raises ConfigError."""
    cfg.validate()
    try:
        vocab = Vocab.from_file(cfg.vocab_file)
    except VocabError as error:
        raise ConfigError(f"--vocab: {error}") from None
    check_inputs(cfg.inputs)
    started = time.time()
    options = pipeline_options(cfg, beam_args)
    with beam.Pipeline(options=options) as pipeline:
        build_pipeline(pipeline, cfg, vocab)
    result_stats = stats.stats_from_counters(stats.counters_of(pipeline.result), dataclasses.asdict(cfg))
    result_stats["wall_seconds"] = round(time.time() - started, 1)
    if result_stats["instances"] == 0:
        remove_shards(cfg.output_dir)
        raise ConfigError(f"--input {','.join(cfg.inputs)!r}: no training instance could be made "
                          f"(documents read {result_stats['documents_read']}, skipped {result_stats['skipped']})")
    stats.write_json_atomically(cfg.output_dir.rstrip("/") + "/stats.json", result_stats)
    return result_stats


def main(argv):
    beam_args = argv[1:]
    logging.getLogger().setLevel(logging.INFO)
    try:
        result = run(config_from_flags(), beam_args)
    except ConfigError as error:
        sys.exit(f"error: {error}")
    print(f"wrote {result['instances']} instances from {result['documents_used']} documents to "
          f"{FLAGS.output_dir} in {result['wall_seconds']} s (stats: {FLAGS.output_dir}/stats.json)")


if __name__ == "__main__":
    app.run(main, flags_parser=lambda argv: FLAGS(argv, known_only=True))
