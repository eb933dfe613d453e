"""manifest.json: what a finished pipeline run wrote — every shard with its record count, size and
SHA-256, and the flags that shaped the records. It is written last, so it also marks the run
complete; a reader can size epochs or seek on resume from the counts without reading the records
(nothing reads it yet).

Example:
    >>> is_pipeline_output(["train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord", "stats.json"])
    True
    >>> is_pipeline_output(["train-00000-of-00002.tfrecord", "notes.txt"])
    False
"""

from __future__ import annotations

import json
import re
import time

from bert_tf.core import storage
from pipelines.shards import shard_info_path
from pipelines.sorted_runs import run_dir_of

MANIFEST = "manifest.json"
STATS = "stats.json"
FORMAT = "bert_tf pre-training records"
# Everything a pipeline run (of this or an earlier version) leaves in its output directory.
_RUN_FILES = re.compile(
    r"^(train-\d{5}-of-\d{5}\.tfrecord(\.tmp-[0-9a-f]+)?|stats\.json(\.tmp)?|manifest\.json)$"
)


def is_pipeline_output(names: list[str]) -> bool:
    """Whether a directory listing is an earlier pipeline run (and nothing else), so it may be
    replaced."""
    return bool(names) and all(_RUN_FILES.match(name.rstrip("/")) for name in names)


def assemble(staging: str, num_shards: int, flags: dict) -> dict:
    """Reads the per-shard `.shard-SSSSS.json` files the writers left in `staging`, removes them,
    the writers' leftover temporaries and the sorted runs, and returns the manifest (not yet
    written)."""
    shards = []
    for index in range(num_shards):
        info_path = shard_info_path(staging, index)
        with storage.open_file(info_path) as f:
            shards.append(json.load(f))
        storage.remove(info_path)
    for leftover in storage.glob(f"{staging.rstrip('/')}/.tmp-*"):  # a retried bundle's, if any
        storage.remove(leftover)
    if storage.exists(run_dir_of(staging)):
        storage.rmtree(run_dir_of(staging))
    return {
        "format": FORMAT,
        "version": 1,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "records": sum(s["records"] for s in shards),
        "shards": shards,
        "stats": STATS,
        "flags": flags,
    }


def write(directory: str, manifest: dict) -> None:
    with storage.open_file(f"{directory.rstrip('/')}/{MANIFEST}", "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
