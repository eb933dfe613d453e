"""The Beam transforms that wire the pure steps together: files → documents → tokenized documents →
NSP pools → masked instances → serialized tf.train.Examples.

Every DoFn is thin glue: it calls a pure function, counts what happened (pipelines.stats) and logs
skips with the file name.
"""

from __future__ import annotations

import logging
import time

import apache_beam as beam
import numpy as np
from apache_beam.io import fileio

from pipelines import stats
from pipelines.config import PipelineConfig
from pipelines.instances import create_pairs_from_document, document_rng
from pipelines.masking import mask_sequence
from pipelines.records import pack_pair, to_example_bytes, to_features, to_unmasked_features
from pipelines.sentences import split_sentences
from pipelines.shards import WriteSortedShards, instance_sort_key
from pipelines.sources import RawDocument, Skipped, read_documents
from bert_tf.vocab import Vocab

# Pages that are not articles are expected in every dump: counted, logged only at debug level.
_EXPECTED_SKIPS = ("wiki_redirect", "wiki_disambiguation", "wiki_not_main_namespace")


def report_skip(skip: Skipped) -> None:
    stats.inc(f"skipped.{skip.reason}")
    stats.inc(stats.per_file_skip(skip.reason, skip.path))
    level = logging.DEBUG if skip.reason in _EXPECTED_SKIPS else logging.WARNING
    logging.log(level, "skipped %s in %s %s", skip.reason, skip.path, skip.detail)


class _ReadFileFn(beam.DoFn):
    def __init__(self, input_format: str, max_line_chars: int):
        self._format, self._max_line_chars = input_format, max_line_chars

    def process(self, readable_file):
        path = readable_file.metadata.path
        try:
            stream = readable_file.open()  # decompresses .bz2/.gz by extension
        except Exception as error:  # unreadable file: count it, go on with the others
            report_skip(Skipped("unreadable_file", path, repr(error)))
            return
        with stream:
            for item in read_documents(path, stream, self._format, self._max_line_chars):
                if isinstance(item, Skipped):
                    report_skip(item)
                else:
                    stats.inc("documents_read")
                    yield item


class ReadDocuments(beam.PTransform):
    """File patterns → RawDocument, streaming each file."""

    def __init__(self, input_format: str, max_line_chars: int):
        super().__init__()
        self._fn = _ReadFileFn(input_format, max_line_chars)

    def expand(self, patterns):
        return (patterns
                | "Match" >> fileio.MatchAll()
                | "Open" >> fileio.ReadMatches()
                | "Parse" >> beam.ParDo(self._fn))


class _TokenizeFn(beam.DoFn):
    """RawDocument → (key, [int32 id array per sentence]); documents without tokens are skipped."""

    def __init__(self, vocab_tokens: tuple[str, ...], lower_case: bool):
        self._vocab_tokens, self._lower_case = vocab_tokens, lower_case

    def setup(self):
        from pipelines.tokenization import WordpieceTokenizer

        self._tokenizer = WordpieceTokenizer(self._vocab_tokens, self._lower_case)
        self._done, self._start = 0, time.time()

    def process(self, document: RawDocument):
        sentences = document.paragraphs if document.presplit else split_sentences(document.paragraphs)
        ids = [a.astype(np.int32) for a in self._tokenizer.tokenize(sentences) if len(a)]
        if not ids:
            report_skip(Skipped("no_tokens", document.source))
            return
        stats.inc("sentences", len(ids))
        self._done += 1
        if self._done % 1_000 == 0:
            logging.info("tokenized %d documents (%.0f/s)", self._done, self._done / (time.time() - self._start))
        yield document.key, ids


def pool_of(key: str, num_documents: int, pool_size: int) -> int:
    """Deterministic NSP pool of a document: its content hash modulo the number of pools."""
    num_pools = max(1, -(-num_documents // pool_size))
    return int(key[:15], 16) % num_pools


class _CreateInstancesFn(beam.DoFn):
    """One NSP pool (documents sorted by key) → (sort key, serialized example) for every dupe and document."""

    def __init__(self, config: PipelineConfig, vocab_tokens: tuple[str, ...]):
        self._config, self._vocab_tokens = config, vocab_tokens

    def setup(self):
        self._vocab = Vocab.from_tokens(self._vocab_tokens)
        self._made, self._start = 0, time.time()

    def process(self, pool_and_documents):
        cfg, vocab = self._config, self._vocab
        keyed = sorted(pool_and_documents[1], key=lambda kd: kd[0])
        keys, pool = [k for k, _ in keyed], [d for _, d in keyed]
        for dupe in range(cfg.dupe_factor):
            for index, key in enumerate(keys):
                rng = document_rng(cfg.random_seed, dupe, key)
                pairs = create_pairs_from_document(index, pool, cfg.pairing, rng)
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
    """Adds the whole job to `pipeline`: inputs → deterministic TFRecord shards (pipelines/shards.py)."""
    documents = (pipeline
                 | "Patterns" >> beam.Create(list(cfg.inputs))
                 | "Read" >> ReadDocuments(cfg.input_format, cfg.max_line_chars)
                 | "Tokenize" >> beam.ParDo(_TokenizeFn(vocab.tokens, cfg.do_lower_case)))
    num_documents = documents | "CountDocuments" >> beam.combiners.Count.Globally()
    _ = (documents
         | "AssignPool" >> beam.Map(lambda kd, n: (pool_of(kd[0], n, cfg.nsp_pool_size), kd),
                                    n=beam.pvalue.AsSingleton(num_documents))
         | "GroupPools" >> beam.GroupByKey()
         | "CreateInstances" >> beam.ParDo(_CreateInstancesFn(cfg, vocab.tokens))
         | "Write" >> WriteSortedShards(cfg.output_dir, cfg.num_shards))
