"""The NotNext sample: the documents with the smallest content keys within a count and a size limit,
the same however the corpus is split into partial accumulators (as workers and bundles split it)."""

import random

from pipelines.sources import RawDocument
from pipelines.not_next_pool import SmallestKeysWithin, smallest_keys_within


def corpus(n, seed=0):
    rng = random.Random(seed)
    return [RawDocument(f"f#{i}", [f"doc {i} " + "x" * rng.randint(1, 400)]) for i in range(n)]


def combine(parts, fn):
    accumulators = []
    for part in parts:
        accumulator = fn.create_accumulator()
        for document in part:
            accumulator = fn.add_input(accumulator, document)
        accumulators.append(accumulator)
    return fn.extract_output(fn.merge_accumulators(accumulators))


def test_any_split_gives_the_sample_of_the_whole_corpus():
    documents = corpus(3000)
    for count, max_chars in [(50, 10**9), (10**6, 20_000), (200, 20_000), (10, 1)]:
        expected = smallest_keys_within(documents, count, max_chars)
        fn = SmallestKeysWithin(count, max_chars)
        for seed in range(5):
            shuffled = random.Random(seed).sample(documents, len(documents))
            cuts = sorted(random.Random(seed).sample(range(1, len(shuffled)), 7))
            parts = [shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(shuffled)])]
            assert [d.key for d in combine(parts, fn)] == [d.key for d in expected]


def test_limits_hold_and_at_least_two_documents_are_kept():
    documents = corpus(500)
    sample = smallest_keys_within(documents, 10**6, 20_000)
    assert (
        sum(len(d.paragraphs[0]) for d in sample)
        <= 20_000
        < sum(len(d.paragraphs[0]) for d in documents)
    )
    assert len(smallest_keys_within(documents, 40, 10**9)) == 40
    assert len(smallest_keys_within(documents, 40, 1)) == 2
