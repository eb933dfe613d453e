"""The Beam transforms that wire the pure steps together, as one chain:

    Patterns → Match → PlanWorkUnits → SpreadWorkUnits → Read → Tokenize → CreateInstances → WriteShards
                                                      ↘ NotNextPool (side input of CreateInstances)

No step groups the whole corpus, so memory stays flat however large the input is, on the local runner
(which holds every grouped or side-input collection in memory) as on Dataflow:
- work units are whole files, or byte ranges of big one-sentence-per-line files
  (pipelines/sources/lines.py), spread over the workers;
- NotNext segments are drawn from a fixed, deterministic sample of the corpus — the `nsp_pool_size`
  documents with the smallest content keys (all documents when the corpus is smaller) — read in a
  second pass and handed to every worker as a side input, so instance creation is a per-document step;
- shards are written from sorted runs merged per shard (pipelines/sorted_runs.py).

Every DoFn is thin glue: it calls a pure function, counts what happened (pipelines.stats) and logs skips
with the file name.
"""

from __future__ import annotations

import logging
import operator
import time

import apache_beam as beam
import numpy as np
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from bert_tf.vocab import Vocab
from pipelines import stats
from pipelines.config import PipelineConfig
from pipelines.instances import PoolView, create_pairs_from_document, document_rng
from pipelines.masking import mask_sequence
from pipelines.records import pack_pair, to_example_bytes, to_features, to_unmasked_features
from pipelines.sentences import split_sentences
from pipelines.shards import instance_sort_key
from pipelines.sorted_runs import WriteShardsFromRuns
from pipelines.sources import SNIFF_BYTES, AmbiguousFormat, RawDocument, Skipped, detect_format, read_documents
from pipelines.sources.lines import plan_ranges, read_range

# Pages that are not articles are expected in every dump: counted, logged only at debug level.
_EXPECTED_SKIPS = ("wiki_redirect", "wiki_disambiguation", "wiki_not_main_namespace")


def report_skip(skip: Skipped) -> None:
    stats.inc(f"skipped.{skip.reason}")
    stats.inc(stats.per_file_skip(skip.reason, skip.path))
    level = logging.DEBUG if skip.reason in _EXPECTED_SKIPS else logging.WARNING
    logging.log(level, "skipped %s in %s %s", skip.reason, skip.path, skip.detail)


def plan_work_units(metadata, input_format: str) -> list[tuple[str, int, int | None]]:
    """(path, start, end) units of one matched file: byte ranges of an uncompressed one-sentence-per-line
    file, else the whole file (end None)."""
    path, size = metadata.path, metadata.size_in_bytes
    if input_format not in ("auto", "lines") or size <= plan_ranges(size)[0][1] or \
            CompressionTypes.detect_compression_type(path) != CompressionTypes.UNCOMPRESSED:
        return [(path, 0, None)]
    if input_format == "auto":
        try:
            with FileSystems.open(path) as stream:
                if detect_format(path, stream.read(SNIFF_BYTES)) != "lines":
                    return [(path, 0, None)]
        except (AmbiguousFormat, OSError):
            return [(path, 0, None)]  # the reader reports it
    return [(path, start, end) for start, end in plan_ranges(size)]


class _ReadUnitFn(beam.DoFn):
    """A work unit → RawDocuments (skips reported, and counted when `count`)."""

    def __init__(self, input_format: str, max_line_chars: int, count: bool = True):
        self._format, self._max_line_chars, self._count = input_format, max_line_chars, count

    def process(self, unit):
        path, start, end = unit
        try:
            stream = FileSystems.open(path) if end is None else \
                FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
        except Exception as error:  # unreadable file: count it, go on with the others
            self._skip(Skipped("unreadable_file", path, repr(error)))
            return
        with stream:
            items = read_documents(path, stream, self._format, self._max_line_chars) if end is None else \
                read_range(path, stream, start, end, self._max_line_chars)
            for item in items:
                if isinstance(item, Skipped):
                    self._skip(item)
                else:
                    if self._count:
                        stats.inc("documents_read")
                    yield item

    def _skip(self, skip: Skipped) -> None:
        if self._count:
            report_skip(skip)


class _TokenizeFn(beam.DoFn):
    """RawDocument → (key, [int32 id array per sentence]); documents without tokens are skipped."""

    def __init__(self, vocab_tokens: tuple[str, ...], lower_case: bool, count: bool = True):
        self._vocab_tokens, self._lower_case, self._count = vocab_tokens, lower_case, count

    def setup(self):
        from pipelines.tokenization import WordpieceTokenizer

        self._tokenizer = WordpieceTokenizer(self._vocab_tokens, self._lower_case)
        self._done, self._start = 0, time.time()

    def process(self, document: RawDocument):
        sentences = document.paragraphs if document.presplit else split_sentences(document.paragraphs)
        ids = [a.astype(np.int32) for a in self._tokenizer.tokenize(sentences) if len(a)]
        if not ids:
            if self._count:
                report_skip(Skipped("no_tokens", document.source))
            return
        if self._count:
            stats.inc("sentences", len(ids))
            self._done += 1
            if self._done % 1_000 == 0:
                logging.info("tokenized %d documents (%.0f/s)", self._done, self._done / (time.time() - self._start))
        yield document.key, ids


def document_key(document: RawDocument) -> str:
    return document.key


def sorted_by_key(keyed_documents: list) -> list:
    return sorted(keyed_documents, key=operator.itemgetter(0))


class NotNextPool(beam.PTransform):
    """Work units → one list of the `size` tokenized documents with the smallest content keys: a sample
    of the corpus that depends only on its content, the same on every runner."""

    def __init__(self, cfg: PipelineConfig, vocab: Vocab):
        super().__init__()
        self._cfg, self._vocab = cfg, vocab

    def expand(self, units):
        cfg = self._cfg
        return (units
                | "ReadForPool" >> beam.ParDo(_ReadUnitFn(cfg.input_format, cfg.max_line_chars, count=False))
                | "SmallestKeys" >> beam.combiners.Top.Smallest(cfg.nsp_pool_size, key=document_key)
                | "Documents" >> beam.FlatMap(iter)
                | "TokenizePool" >> beam.ParDo(_TokenizeFn(self._vocab.tokens, cfg.do_lower_case, count=False))
                | "ToList" >> beam.combiners.ToList()
                | "SortByKey" >> beam.Map(sorted_by_key))


class _CreateInstancesFn(beam.DoFn):
    """(key, tokenized document) + the NotNext pool → (sort key, serialized example) for every dupe."""

    def __init__(self, config: PipelineConfig, vocab_tokens: tuple[str, ...]):
        self._config, self._vocab_tokens = config, vocab_tokens

    def setup(self):
        self._vocab = Vocab.from_tokens(self._vocab_tokens)
        self._made, self._start = 0, time.time()
        self._pool_id, self._pool, self._position = None, [], {}

    def process(self, keyed_document, pool=()):
        cfg, vocab = self._config, self._vocab
        if id(pool) != self._pool_id:  # the side input, indexed once per worker
            self._pool_id, self._pool = id(pool), [d for _, d in pool]
            self._position = {k: i for i, (k, _) in enumerate(pool)}
        key, document = keyed_document
        view = PoolView(document, self._pool, self._position.get(key))
        for dupe in range(cfg.dupe_factor):
            rng = document_rng(cfg.random_seed, dupe, key)
            pairs = create_pairs_from_document(0, view, cfg.pairing, rng)
            if dupe == 0:
                stats.inc("documents_used" if pairs else "skipped.no_instances")
            for number, pair in enumerate(pairs):
                tokens, segments = pack_pair(pair, vocab.cls_id, vocab.sep_id)
                yield (instance_sort_key(key, dupe, number),
                       to_example_bytes(self._features(tokens, segments, pair.is_random_next, rng)))

    def _features(self, tokens, segments, is_random_next: bool, rng) -> dict:
        """Masked (static) features, or unmasked ones that the trainer's tf.data masks afresh."""
        cfg = self._config
        if cfg.dynamic_masking:
            self._count(len(tokens), 0, is_random_next)
            return to_unmasked_features(tokens, segments, is_random_next, cfg.max_seq_length)
        masked = mask_sequence(tokens, self._vocab, cfg.masking, rng)
        self._count(len(tokens), len(masked.positions), is_random_next)
        return to_features(masked, segments, is_random_next, cfg.max_seq_length, cfg.max_predictions_per_seq)

    def _count(self, length: int, masked: int, is_random_next: bool) -> None:
        stats.inc("instances")
        stats.inc("tokens", length)
        stats.inc("masked_tokens", masked)
        stats.inc(stats.length_bucket(length))
        if not self._config.no_nsp:
            stats.inc("nsp_is_random" if is_random_next else "nsp_is_next")
        self._made += 1
        if self._made % 20_000 == 0:
            logging.info("made %d instances (%.0f/s)", self._made, self._made / (time.time() - self._start))


def build_pipeline(pipeline: beam.Pipeline, cfg: PipelineConfig, vocab: Vocab) -> None:
    """Adds the whole job to `pipeline`: inputs → deterministic TFRecord shards in cfg.output_dir."""
    units = (pipeline
             | "Patterns" >> beam.Create(list(cfg.inputs))
             | "Match" >> fileio.MatchAll()
             | "PlanWorkUnits" >> beam.FlatMap(plan_work_units, cfg.input_format)
             | "SpreadWorkUnits" >> beam.Reshuffle())
    side = {} if cfg.no_nsp else {"pool": beam.pvalue.AsSingleton(units | "NotNextPool" >> NotNextPool(cfg, vocab))}
    _ = (units
         | "Read" >> beam.ParDo(_ReadUnitFn(cfg.input_format, cfg.max_line_chars))
         | "Tokenize" >> beam.ParDo(_TokenizeFn(vocab.tokens, cfg.do_lower_case))
         | "CreateInstances" >> beam.ParDo(_CreateInstancesFn(cfg, vocab.tokens), **side)
         | "WriteShards" >> WriteShardsFromRuns(cfg.output_dir, cfg.num_shards))
