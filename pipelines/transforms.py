"""The Beam transforms that wire the pure steps together, as one chain:

    Patterns → Match → PlanWorkUnits → SpreadWorkUnits → Read → Tokenize → CreateInstances → WriteShards
                                                      ↘ NotNextPool (side input of CreateInstances;
                                                                     its keys, of Read and Tokenize)

No step groups the whole corpus, so memory stays flat however large the input is, on the local
runner (which holds every grouped or side-input collection in memory) as on Dataflow:
- work units are whole files, or byte ranges of big one-sentence-per-line files
  (pipelines/sources/lines.py), spread over the workers;
- NotNext segments are drawn from a fixed, deterministic sample of the corpus — the documents with
  the smallest content keys, at most `nsp_pool_size` of them and `nsp_pool_mb` million characters
  (all documents when the corpus is smaller) — chosen by key in a first pass over the input, read
  and tokenized in a second, and handed to every worker as a side input, so instance creation is a
  per-document step (only CreateInstances takes the tokenized pool: a runner keeps a copy of a side
  input per step that reads it; Read and Tokenize take the pool's keys);
- shards are written from sorted runs merged per shard (pipelines/sorted_runs.py);
- Read → Tokenize → CreateInstances → the sorted runs are one fused stage that starts once the pool
  is ready, so documents stream through it; what crosses between workers is big and cheap to encode
  (work units, a document's token ids as two arrays, run paths).

Every DoFn is thin glue: it calls a pure function, counts what happened (pipelines.stats) and logs
skips with the file name.
"""

from __future__ import annotations

import collections
from typing import Iterator

import apache_beam as beam
import numpy as np
from apache_beam.io import fileio
from apache_beam.transforms.window import GlobalWindows

from bert_tf.core.masking import MaskingDraws, mask_with_draws, padded_rows
from bert_tf.core.vocab import Vocab
from pipelines import progress, stats
from pipelines.config import PipelineConfig
from pipelines.example_encoding import serialize_examples
from pipelines.instances import PackedDocument, PoolView, create_pairs_from_document, document_rng
from pipelines.not_next_pool import SmallestKeysWithin, sorted_by_key
from pipelines.read_units import ReadUnitFn, plan_work_units, report_skip
from pipelines.records import feature_columns, pack_pair, unmasked_feature_columns
from pipelines.sentences import split_sentences
from pipelines.shards import instance_sort_key
from pipelines.sorted_runs import WriteShardsFromRuns
from pipelines.sources import RawDocument, RawPage, Skipped


class _NotNextPoolIndex:
    """The NotNext side input — (key, PackedDocument) pairs sorted by key — indexed once per worker
    (the runner hands the same object to every call)."""

    def __init__(self):
        self._pool_id, self.documents, self.position = None, [], {}

    def of(self, pool) -> "_NotNextPoolIndex":
        if id(pool) != self._pool_id:
            self._pool_id, self.documents = id(pool), [document for _, document in pool]
            self.position = {key: i for i, (key, _) in enumerate(pool)}
        return self


class _TokenizeFn(beam.DoFn):
    """RawDocument → (key, PackedDocument); documents without tokens are skipped.

    Documents are tokenized `batch_sentences` sentences per tensorflow-text call (one call per
    document costs ≈ 1.5× as much on short documents). With the NotNext pool's sentence counts as
    side input (`pooled`), a document the pool holds is not tokenized a second time: it goes on as
    (key, None), and CreateInstances takes its tokens from the pool."""

    def __init__(
        self,
        vocab_tokens: tuple[str, ...],
        lower_case: bool,
        splitter: str,
        count: bool = True,
        batch_sentences: int = 2_000,
    ):
        self._vocab_tokens, self._lower_case, self._count = vocab_tokens, lower_case, count
        self._splitter = splitter
        self._batch_sentences = batch_sentences

    def setup(self):
        from pipelines.tokenization import WordpieceTokenizer

        self._tokenizer = WordpieceTokenizer(self._vocab_tokens, self._lower_case)

    def start_bundle(self):
        self._batch: list[tuple[RawDocument, list[str]]] = []
        self._pending = 0

    def process(self, document: RawDocument, pooled=None):
        if pooled and document.key in pooled:
            if self._count:
                stats.inc_all({"sentences": pooled[document.key]})
            yield document.key, None
            return
        sentences = (
            document.paragraphs
            if document.presplit
            else split_sentences(document.paragraphs, self._splitter)
        )
        self._batch.append((document, sentences))
        self._pending += len(sentences)
        if self._pending >= self._batch_sentences:
            yield from self._flush()

    def finish_bundle(self):
        for keyed_document in self._flush():
            yield GlobalWindows.windowed_value(keyed_document)

    def _flush(self):
        batch, self._batch, self._pending = self._batch, [], 0
        flat, lengths = self._tokenizer.tokenize_flat(
            [s for _, sentences in batch for s in sentences]
        )
        # where each sentence's ids begin in `flat`
        id_starts = np.concatenate([[0], np.cumsum(lengths)])
        sentence_end, packed = 0, []
        for document, sentences in batch:
            start, sentence_end = sentence_end, sentence_end + len(sentences)
            ids = flat[id_starts[start] : id_starts[sentence_end]]
            packed.append((document, PackedDocument(ids, lengths[start:sentence_end])))
        return self._emit(packed)

    def _emit(self, packed: list):
        tally = collections.Counter()
        for document, tokens in packed:
            if not len(tokens):
                if self._count:
                    report_skip(Skipped("no_tokens", document.source))
                continue
            tally["sentences"] += len(tokens)
            yield document.key, tokens
        if self._count:
            stats.inc_all(tally)


def sentence_counts(pool: list) -> dict[str, int]:
    """The NotNext pool's (key, PackedDocument) pairs → {key: number of sentences}: what Read and
    Tokenize need of it, a small side input."""
    return {key: len(document) for key, document in pool}


def _cleaned(item: RawDocument | RawPage) -> Iterator[RawDocument]:
    """The sample's document, its page cleaned; a page without text is left out here (the main
    read meets it again and counts the skip)."""
    document = item.document() if isinstance(item, RawPage) else item
    if isinstance(document, RawDocument):
        yield document


class NotNextPool(beam.PTransform):
    """Work units → one list of tokenized documents with the smallest content keys (within the count
    and size limits): a sample of the corpus that depends only on its content, the same on every
    runner."""

    def __init__(self, cfg: PipelineConfig, vocab: Vocab, progress_dir: str | None = None):
        super().__init__()
        self._cfg, self._vocab, self._progress_dir = cfg, vocab, progress_dir

    def expand(self, units):
        cfg = self._cfg

        def read(progress_name):
            return ReadUnitFn(
                cfg.input_format,
                cfg.max_line_chars,
                count=False,
                progress_dir=self._progress_dir,
                progress_name=progress_name,
            )

        chosen_keys = (
            units
            | "ReadForPool" >> beam.ParDo(read("pool_bytes"))
            | "KeySizes" >> beam.Map(lambda document: (document.key, document.characters()))
            | "SmallestKeys"
            >> beam.CombineGlobally(
                SmallestKeysWithin(cfg.nsp_pool_size, int(cfg.nsp_pool_mb * 1e6))
            ).without_defaults()
        )
        return (
            units
            | "ReadPoolDocuments"
            >> beam.ParDo(read(None), wanted=beam.pvalue.AsSingleton(chosen_keys))
            | "CleanPages" >> beam.FlatMap(_cleaned)
            | "SpreadPool" >> beam.Reshuffle()  # else one worker tokenizes the whole pool
            | "TokenizePool"
            >> beam.ParDo(
                _TokenizeFn(
                    self._vocab.tokens, cfg.do_lower_case, cfg.sentence_splitter, count=False
                )
            )
            | "ToList" >> beam.combiners.ToList()
            | "SortByKey" >> beam.Map(sorted_by_key)
        )


class _CreateInstancesFn(beam.DoFn):
    """(key, PackedDocument, or None for a document the NotNext pool holds) + the pool → (sort key,
    serialized example) for every dupe."""

    BATCH_ROWS = 1024  # a document's dupes are masked and serialized together up to about this many

    def __init__(
        self, config: PipelineConfig, vocab_tokens: tuple[str, ...], progress_dir: str | None = None
    ):
        self._config, self._vocab_tokens, self._progress_dir = config, vocab_tokens, progress_dir

    def setup(self):
        self._vocab = Vocab.from_tokens(self._vocab_tokens)
        self._pool = _NotNextPoolIndex()

    def process(self, keyed_document, pool=()):
        cfg = self._config
        key, document = keyed_document
        index = self._pool.of(pool)
        position = index.position.get(key)
        if document is None:  # Tokenize left it in the pool
            document = index.documents[position]
        view = PoolView(document.sentences(), index.documents, position)
        tally = collections.Counter()
        batch, rows = [], 0  # (dupe, pairs, masking generator) of the dupes not yet written
        for dupe in range(cfg.dupe_factor):
            rng = document_rng(cfg.random_seed, dupe, key)
            pairs = create_pairs_from_document(0, view, cfg.pairing, rng)
            if dupe == 0:
                tally["documents_used" if pairs else "skipped.no_instances"] += 1
            if pairs:
                batch.append((dupe, pairs, np.random.default_rng(rng.getrandbits(64))))
                rows += len(pairs)
            if batch and (rows >= self.BATCH_ROWS or dupe == cfg.dupe_factor - 1):
                yield from self._records(key, batch, tally)
                batch, rows = [], 0
        stats.inc_all(tally)
        progress.report(self._progress_dir, instances=tally["instances"])

    def _records(self, key: str, batch: list, tally: collections.Counter) -> Iterator[tuple]:
        """(sort key, serialized example) of every pair of a batch of dupes; one masking and one
        serialization call for all of them (each dupe still masked by its own generator)."""
        columns = self._columns(batch, tally)
        keys = (
            instance_sort_key(key, dupe, number)
            for dupe, pairs, _ in batch
            for number in range(len(pairs))
        )
        return zip(keys, serialize_examples(columns))

    def _columns(self, batch: list, tally: collections.Counter) -> dict:
        """The feature values of every pair of a batch of dupes, a row each: masked (static), or
        unmasked for the trainer's tf.data to mask."""
        cfg, vocab = self._config, self._vocab
        pairs = [pair for _, dupe_pairs, _ in batch for pair in dupe_pairs]
        packed = [pack_pair(pair, vocab.cls_id, vocab.sep_id) for pair in pairs]
        tokens = [pair_tokens for pair_tokens, _ in packed]
        segments = padded_rows([pair_segments for _, pair_segments in packed], cfg.max_seq_length)
        labels = [pair.is_random_next for pair in pairs]
        lengths = np.array([len(t) for t in tokens], np.int64)
        tally["instances"] += len(pairs)
        tally["tokens"] += int(lengths.sum())
        tally.update(stats.length_bucket(length) for length in lengths.tolist())
        if not cfg.no_nsp:
            tally["nsp_is_random"] += sum(labels)
            tally["nsp_is_next"] += len(labels) - sum(labels)
        padded = padded_rows(tokens, cfg.max_seq_length)
        if cfg.dynamic_masking:
            return unmasked_feature_columns(padded, lengths, segments, labels)
        draws = MaskingDraws.stacked(
            [MaskingDraws.draw(rng, (len(p), cfg.max_seq_length), vocab) for _, p, rng in batch]
        )
        masked = mask_with_draws(padded, lengths, vocab, cfg.masking, draws)
        tally["masked_tokens"] += int(masked.counts.sum())
        return feature_columns(masked, segments, labels)


def build_pipeline(
    pipeline: beam.Pipeline, cfg: PipelineConfig, vocab: Vocab, progress_dir: str | None = None
) -> None:
    """Adds the whole job to `pipeline`: inputs → deterministic TFRecord shards in cfg.output_dir.
    Workers report their progress to Beam counters and, on local runs, to files in
    `progress_dir`."""
    units = (
        pipeline
        | "Patterns" >> beam.Create(list(cfg.inputs))
        | "Match" >> fileio.MatchAll()
        | "PlanWorkUnits" >> beam.FlatMap(plan_work_units, cfg.input_format)
        | "SpreadWorkUnits" >> beam.Reshuffle()
    )
    pool, pooled = {}, {}  # side inputs: the NotNext pool, and its keys' sentence counts
    if not cfg.no_nsp:
        documents = units | "NotNextPool" >> NotNextPool(cfg, vocab, progress_dir)
        pool["pool"] = beam.pvalue.AsSingleton(documents)
        pooled["pooled"] = beam.pvalue.AsSingleton(
            documents | "PoolSentenceCounts" >> beam.Map(sentence_counts)
        )
    _ = (
        units
        | "Read"
        >> beam.ParDo(
            ReadUnitFn(cfg.input_format, cfg.max_line_chars, progress_dir=progress_dir), **pooled
        )
        | "Tokenize"
        >> beam.ParDo(_TokenizeFn(vocab.tokens, cfg.do_lower_case, cfg.sentence_splitter), **pooled)
        | "CreateInstances"
        >> beam.ParDo(_CreateInstancesFn(cfg, vocab.tokens, progress_dir), **pool)
        | "WriteShards" >> WriteShardsFromRuns(cfg.output_dir, cfg.num_shards)
    )
