"""The training record stream: starting it at any position gives exactly the records the whole stream
has there (across files, windows and epochs), every epoch reads every record once, and record counts
come from the manifest or are counted once and cached."""

import json
import os

import pytest
import tensorflow as tf

from bert_tf.training.record_stream import locate, record_counts, record_stream

SIZES = [7, 3, 11, 5]  # records per file: uneven, like real shards


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("stream")
    paths = []
    for f, size in enumerate(SIZES):
        path = str(directory / f"train-{f:05d}-of-{len(SIZES):05d}.tfrecord")
        with tf.io.TFRecordWriter(path) as writer:
            for r in range(size):
                writer.write(f"f{f}r{r}".encode())
        paths.append(path)
    return paths


def take(dataset, n):
    return [x.decode() for x in dataset.take(n).as_numpy_iterator()]


def test_a_stream_started_anywhere_continues_the_whole_stream(files):
    whole = take(record_stream(files, SIZES, seed=5, position=0, window=4), 120)
    for position in (0, 1, 3, 4, 10, 25, 26, 27, 52, 77, 100):
        started = take(record_stream(files, SIZES, seed=5, position=position, window=4), 20)
        assert started == whole[position : position + 20], position


def test_every_epoch_reads_every_record_once_in_a_new_order(files):
    total = sum(SIZES)
    whole = take(record_stream(files, SIZES, seed=5, position=0, window=total), 3 * total)
    epochs = [whole[e * total : (e + 1) * total] for e in range(3)]
    everything = sorted(f"f{f}r{r}" for f, size in enumerate(SIZES) for r in range(size))
    assert all(sorted(epoch) == everything for epoch in epochs)
    assert epochs[0] != epochs[1] != epochs[2]
    other_seed = take(record_stream(files, SIZES, seed=6, position=0, window=total), total)
    assert other_seed != epochs[0]


def test_locate_skips_whole_epochs_and_files_by_arithmetic():
    at = locate(SIZES, seed=5, position=10 * sum(SIZES) + 2)
    assert at.epoch == 10 and at.record <= 2


def test_counts_come_from_the_manifest_or_are_counted_once_and_cached(files, tmp_path):
    cache = str(tmp_path / "record_counts.json")
    assert record_counts(files, cache) == SIZES  # no manifest: counted, then cached
    cached = json.loads(open(cache).read())
    assert {path: entry["records"] for path, entry in cached.items()} == dict(zip(files, SIZES))
    cached[files[0]]["records"] = 99  # a cached count is used as long as the file size matches
    open(cache, "w").write(json.dumps(cached))
    assert record_counts(files, cache)[0] == 99
    directory = os.path.dirname(files[0])
    shards = [
        {"file": os.path.basename(p), "bytes": os.path.getsize(p), "records": 40 + i}
        for i, p in enumerate(files)
    ]
    manifest = os.path.join(directory, "manifest.json")
    with open(manifest, "w") as f:
        json.dump({"shards": shards}, f)
    try:
        assert record_counts(files) == [40, 41, 42, 43]  # the manifest wins, nothing read
    finally:
        os.remove(manifest)
