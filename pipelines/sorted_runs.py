"""Deterministic shards without a whole-corpus shuffle: sorted runs spilled per shard, then merged.

Every worker buffers the (sort key, record) pairs it makes, split by shard (pipelines/shards.py
decides the shard from the key); when the buffer holds `max_buffer_bytes`, or its bundle ends, each
shard's part is sorted by key and written as one *run* file under RUN_DIR/shard-SSSSS/. Only the run
paths — a few bytes each — are grouped by shard; one worker per shard then streams a k-way merge of
its runs into the final shard file. Memory is bounded by the buffer on the writing side and by one
record per run on the merging side, on the local runner as on Dataflow; the shard's bytes are the
same as sorting all its records at once (keys are unique). Runs of a retried bundle are never merged
(Beam discards its outputs) and are removed with RUN_DIR.

Example:
    >>> import heapq
    >>> [r for r in heapq.merge([b"a1", b"c3"], [b"b2"])]
    [b'a1', b'b2', b'c3']
"""

from __future__ import annotations

import collections
import heapq
import json
import struct
import uuid

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows

from bert_tf.core import storage
from pipelines.shards import file_digest, shard_info_path, shard_of, shard_path

KEY_BYTES = 32  # a SHA-256 sort key, stored raw in front of each record of a run
# A run is a private scratch file: entries framed by a 4-byte little-endian length, written and read in
# blocks (per-record TFRecord I/O through tf.data cost more than making the records). A merge holds one
# block per run: with the 64 MB spill buffer, ≈ 60 runs per shard for 4 GB of records, ≈ 15 MB.
_LENGTH = struct.Struct("<I")


class _SpillRunsFn(beam.DoFn):
    """(hex sort key, record) → (shard, run path) for every sorted run written."""

    def __init__(self, run_dir: str, num_shards: int, max_buffer_bytes: int):
        self._run_dir, self._num_shards, self._max_bytes = run_dir, num_shards, max_buffer_bytes

    def start_bundle(self):
        self._buffers: dict[int, list[bytes]] = collections.defaultdict(list)
        self._bytes = 0

    def process(self, keyed_record):
        key, record = keyed_record
        self._buffers[shard_of(key, self._num_shards)].append(bytes.fromhex(key) + record)
        self._bytes += KEY_BYTES + len(record)
        if self._bytes >= self._max_bytes:
            yield from self._spill()

    def finish_bundle(self):
        for shard_and_path in self._spill():
            yield GlobalWindows.windowed_value(shard_and_path)

    def _spill(self):

        for shard, entries in sorted(self._buffers.items()):
            entries.sort()
            path = f"{self._run_dir}/shard-{shard:05d}/run-{uuid.uuid4().hex}"
            storage.makedirs(path.rsplit("/", 1)[0])
            with storage.open_file(path, "wb") as f:
                for start in range(0, len(entries), 4096):
                    f.write(
                        b"".join([_LENGTH.pack(len(e)) + e for e in entries[start : start + 4096]])
                    )
            yield shard, path
        self._buffers.clear()
        self._bytes = 0


def _read_run(path: str, block_bytes: int = 256 << 10):
    """The entries of a run file, in order, read in blocks."""

    with storage.open_file(path, "rb") as f:
        buffer, offset = b"", 0
        while True:
            available = len(buffer) - offset
            length = _LENGTH.unpack_from(buffer, offset)[0] if available >= _LENGTH.size else None
            if length is not None and available >= _LENGTH.size + length:
                start = offset + _LENGTH.size
                yield buffer[start : start + length]
                offset = start + length
                continue
            block = f.read(block_bytes)
            if not block:
                if available:
                    raise ValueError(f"{path}: truncated run file")
                return
            buffer, offset = buffer[offset:] + block, 0


class _MergeRunsFn(beam.DoFn):
    """(shard, [run paths, None markers]) → the shard file (records in key order) and its info
    JSON."""

    def __init__(self, output_dir: str, num_shards: int):
        self._output_dir, self._num_shards = output_dir, num_shards

    def process(self, shard_and_runs):
        import tensorflow as tf

        shard, runs = shard_and_runs
        path = shard_path(self._output_dir, shard, self._num_shards)
        temporary = (
            f"{self._output_dir.rstrip('/')}/.tmp-{uuid.uuid4().hex}-{path.rsplit('/', 1)[-1]}"
        )
        count = 0
        with tf.io.TFRecordWriter(temporary) as writer:
            for entry in heapq.merge(
                *[_read_run(run) for run in sorted(r for r in runs if r is not None)]
            ):
                writer.write(entry[KEY_BYTES:])
                count += 1
        size, sha256 = file_digest(temporary)
        storage.rename(temporary, path)
        info = {"file": path.rsplit("/", 1)[-1], "records": count, "bytes": size, "sha256": sha256}
        with storage.open_file(shard_info_path(self._output_dir, shard), "w") as f:
            json.dump(info, f)
        yield path


def run_dir_of(output_dir: str) -> str:
    """Where the runs of a job writing into `output_dir` (a staging directory) go; removed before
    publishing."""
    return f"{output_dir.rstrip('/')}/.runs"


class WriteShardsFromRuns(beam.PTransform):
    """(hex sort key, serialized record) → `num_shards` TFRecord files (every index, empty ones
    too)."""

    def __init__(self, output_dir: str, num_shards: int, max_buffer_bytes: int = 64 << 20):
        super().__init__()
        self._output_dir, self._num_shards, self._max_bytes = (
            output_dir,
            num_shards,
            max_buffer_bytes,
        )

    def expand(self, keyed_records):
        runs = keyed_records | "SpillSortedRuns" >> beam.ParDo(
            _SpillRunsFn(run_dir_of(self._output_dir), self._num_shards, self._max_bytes)
        )
        # One marker per shard index, so shards that get no record are still written (empty).
        markers = keyed_records.pipeline | "ShardIndices" >> beam.Create(
            [(i, None) for i in range(self._num_shards)]
        )
        return (
            (runs, markers)
            | "FlattenRuns" >> beam.Flatten()
            | "GroupRunsByShard" >> beam.GroupByKey()
            | "MergeRuns" >> beam.ParDo(_MergeRunsFn(self._output_dir, self._num_shards))
        )
