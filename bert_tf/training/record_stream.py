"""The training record stream, in an order computable from a position, so that a resumed run starts
where the interrupted one stopped in time independent of how far it got (no re-reading).

The stream of one input pipeline, for a seed:

1. its files (all of them, or every n-th when n pipelines each read their own files);
2. epoch e reads them in the order `stateless_shuffle(range(files), [seed, e])`, each file front to
   back (the pipeline's shards are already in hash order, so consecutive records are unrelated
   documents);
3. windows of `window` records are shuffled, window w by `stateless_shuffle(range(window), [seed',
   w])`.

Position p (records consumed) is found from the files' record counts (the pipeline's manifest.json,
else counted once and cached): skip whole epochs and files by arithmetic, then read into one file up
to the start of p's window — bounded by one shard, however large p is.

Example:
    >>> locate([3, 5], seed=1, position=10)  # epoch 1 (8 records each), then 2 more
    StreamPosition(epoch=1, file=0, record=2)
"""

from __future__ import annotations

import dataclasses
import json
import os

import tensorflow as tf

from bert_tf.core import storage

# Second stream of the seed for the window shuffle (the first orders the files).
_WINDOW_SEED_OFFSET = 0x5BD1E995


@dataclasses.dataclass(frozen=True)
class StreamPosition:
    epoch: int
    file: int  # index into the epoch's file order
    record: int  # records to skip inside that file


def _permutation(size, seed: int, index):
    """range(size) shuffled by the stateless RNG at (seed, index): the same eagerly and in tf.data."""
    key = tf.stack([tf.constant(seed, tf.int64), tf.cast(index, tf.int64)])
    return tf.random.experimental.stateless_shuffle(tf.range(size), seed=key)


def epoch_order(num_files: int, seed: int, epoch: int) -> list[int]:
    """The file indices in the order epoch `epoch` reads them."""
    return _permutation(num_files, seed, epoch).numpy().tolist()


def locate(counts: list[int], seed: int, position: int) -> StreamPosition:
    """Where record `position` of the stream lies (counts: records per file, in file-list order)."""
    total = sum(counts)
    if total == 0:
        raise ValueError("the training files hold no records")
    epoch, inside = divmod(position, total)
    for index, file in enumerate(epoch_order(len(counts), seed, epoch)):
        if inside < counts[file]:
            return StreamPosition(epoch, index, inside)
        inside -= counts[file]
    raise AssertionError("unreachable: position within the epoch")


def _counted(path: str) -> int:
    return int(tf.data.TFRecordDataset(path).reduce(0, lambda n, _: n + 1))


def _manifest_counts(directory: str) -> dict[str, tuple[int, int]]:
    """{file name: (bytes, records)} from a pipeline output's manifest.json ({} if absent)."""
    path = os.path.join(directory, "manifest.json")
    if not storage.exists(path):
        return {}
    with storage.open_file(path) as f:
        shards = json.load(f).get("shards", [])
    return {s["file"]: (s["bytes"], s["records"]) for s in shards}


def record_counts(files: list[str], cache_file: str | None = None) -> list[int]:
    """Records per file: from the manifest beside it when its size matches, else from `cache_file`
    (a JSON of earlier counts, updated here), else counted by reading the file once."""
    cache = {}
    if cache_file and storage.exists(cache_file):
        with storage.open_file(cache_file) as f:
            cache = json.load(f)
    manifests, counts, changed = {}, [], False
    for path in files:
        directory, name = os.path.split(path)
        if directory not in manifests:
            manifests[directory] = _manifest_counts(directory)
        size = storage.size(path)
        listed = manifests[directory].get(name)
        if listed and listed[0] == size:
            counts.append(listed[1])
        elif cache.get(path, {}).get("bytes") == size:
            counts.append(cache[path]["records"])
        else:
            counts.append(_counted(path))
            cache[path], changed = {"bytes": size, "records": counts[-1]}, True
    if cache_file and changed:
        with storage.written_whole(cache_file) as f:
            json.dump(cache, f, indent=1)
    return counts


def record_stream(
    files: list[str], counts: list[int], seed: int, position: int, window: int
) -> tf.data.Dataset:
    """Serialized records of the stream from `position` on (infinite)."""
    start = position - position % window
    at = locate(counts, seed, start)
    first = epoch_order(len(files), seed, at.epoch)[at.file :]
    skips = tf.constant([at.record] + [0] * (len(first) - 1), tf.int64)
    head = tf.data.Dataset.from_tensor_slices((tf.constant([files[i] for i in first]), skips))
    paths = tf.constant(files)

    def epoch_files(epoch):
        order = _permutation(len(files), seed, epoch)
        names = tf.gather(paths, order)
        return tf.data.Dataset.from_tensor_slices((names, tf.zeros_like(order, tf.int64)))

    rest = tf.data.Dataset.range(at.epoch + 1, 2**62).flat_map(epoch_files)

    def read(path, skip):
        return tf.data.TFRecordDataset(path, buffer_size=8 << 20).skip(skip)

    records = head.concatenate(rest).flat_map(read)

    def shuffle_window(index, batch):
        return tf.gather(batch, _permutation(tf.shape(batch)[0], seed + _WINDOW_SEED_OFFSET, index))

    windows = records.batch(window).enumerate(start=start // window).map(shuffle_window)
    return windows.unbatch().skip(position - start)
