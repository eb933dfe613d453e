"""Deterministic output shards: which shard an instance lands in and where it sits there depend only
on the instance itself, so the same input, flags and seed give byte-identical files on any runner,
with any number of workers, however the input files are named or split.

Each instance gets a sort key = SHA-256 of its identity (document content key, dupe index, position
in the document's instance list). The key's first 8 hex digits pick the shard; within a shard,
records are written in key order — a pseudo-random order, so one document's instances are spread
out, as the original recipe's final shuffle does. The writer (pipelines/sorted_runs.py) writes each
shard to a temporary name (`.tmp-…`, which the `train-*` glob never matches) and renames it: a
reader never sees a half-written shard, and a retried bundle rewrites identical bytes. Beside each
shard it leaves `.shard-SSSSS.json` (records, bytes, SHA-256), from which the job's manifest.json is
assembled (pipelines/manifest.py).

Example:
    >>> key = instance_sort_key("9f86d08", dupe=0, index=3)
    >>> shard_of(key, 16) == shard_of(instance_sort_key("9f86d08", 0, 3), 16)
    True
    >>> shard_path("out", 2, 16)
    'out/train-00002-of-00016.tfrecord'
"""

from __future__ import annotations

import hashlib

from bert_tf.core import storage

SHARD_PREFIX = "train"
SHARD_SUFFIX = ".tfrecord"


def instance_sort_key(document_key: str, dupe: int, index: int) -> str:
    return hashlib.sha256(f"{document_key}:{dupe}:{index}".encode()).hexdigest()


def shard_of(sort_key: str, num_shards: int) -> int:
    return int(sort_key[:8], 16) % num_shards


def shard_path(output_dir: str, index: int, num_shards: int) -> str:
    return f"{output_dir.rstrip('/')}/{SHARD_PREFIX}-{index:05d}-of-{num_shards:05d}{SHARD_SUFFIX}"


def shard_info_path(output_dir: str, index: int) -> str:
    """The small JSON its writer leaves beside shard `index` (records, bytes, sha256)."""
    return f"{output_dir.rstrip('/')}/.shard-{index:05d}.json"


def file_digest(path: str) -> tuple[int, str]:
    """(bytes, SHA-256 hex) of a local or remote file, read in 4 MiB blocks."""

    digest, size = hashlib.sha256(), 0
    with storage.open_file(path, "rb") as f:
        while block := f.read(4 << 20):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()
