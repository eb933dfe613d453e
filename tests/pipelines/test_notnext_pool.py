"""The NotNext sample: the documents with the smallest content keys within a count and a size limit,
the same however the corpus is split into partial accumulators (as workers and bundles split it)."""

import random

from pipelines.not_next_pool import SmallestKeysWithin, smallest_keys_within
from pipelines.sources import RawDocument


def corpus(n, seed=0):
    """(content key, characters) of n documents of random length."""
    rng = random.Random(seed)
    documents = [RawDocument(f"f#{i}", [f"doc {i} " + "x" * rng.randint(1, 400)]) for i in range(n)]
    return [(d.key, d.characters()) for d in documents]


def combine(parts, fn):
    """As a runner does it: one accumulator per bundle, compacted before it is sent, then merged."""
    accumulators = []
    for part in parts:
        accumulator = fn.create_accumulator()
        for key_size in part:
            accumulator = fn.add_input(accumulator, key_size)
        accumulators.append(fn.compact(accumulator))
    return fn.extract_output(fn.merge_accumulators(accumulators))


def test_any_split_gives_the_sample_of_the_whole_corpus():
    sizes = corpus(3000)
    for count, max_chars in [(50, 10**9), (10**6, 20_000), (200, 20_000), (10, 1)]:
        expected = {key for key, _ in smallest_keys_within(sizes, count, max_chars)}
        fn = SmallestKeysWithin(count, max_chars)
        for seed in range(5):
            shuffled = random.Random(seed).sample(sizes, len(sizes))
            cuts = sorted(random.Random(seed).sample(range(1, len(shuffled)), 7))
            parts = [shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(shuffled)])]
            assert combine(parts, fn) == expected


def test_limits_hold_and_at_least_two_documents_are_kept():
    sizes = corpus(500)
    sample = smallest_keys_within(sizes, 10**6, 20_000)
    assert sum(size for _, size in sample) <= 20_000 < sum(size for _, size in sizes)
    assert sample == sorted(sizes)[: len(sample)]
    assert len(smallest_keys_within(sizes, 40, 10**9)) == 40
    assert len(smallest_keys_within(sizes, 40, 1)) == 2


def test_accumulators_hold_keys_within_twice_the_limits():
    fn = SmallestKeysWithin(100, 10**9)
    accumulator = fn.create_accumulator()
    for key_size in corpus(5000):
        accumulator = fn.add_input(accumulator, key_size)
        assert len(accumulator[0]) <= 200
    assert len(fn.compact(accumulator)[0]) == 100


def test_wikipedia_pages_are_keyed_before_cleaning_and_clean_to_the_same_documents(samples):
    import bz2

    from pipelines.sources import RawPage, read_documents

    def items(clean_pages):
        with bz2.open(samples["wiki"]) as stream:
            return list(read_documents(samples["wiki"], stream, "wiki", clean_pages=clean_pages))

    cleaned, pages = items(True), items(False)
    assert len(cleaned) == len(pages) and any(isinstance(p, RawPage) for p in pages)
    later = [p.document() if isinstance(p, RawPage) else p for p in pages]
    assert later == cleaned
    assert all(p.key == d.key for p, d in zip(pages, later) if isinstance(d, RawDocument))


def test_each_wikipedia_article_is_cleaned_once_however_small_the_notnext_sample(
    samples, vocab_file, tmp_path, monkeypatch
):
    """The sample's read keys pages by their wikitext and cleans only the pages it keeps; the main
    read cleans only the others (cleaning is most of the cost of XML input)."""
    from pipelines.config import PipelineConfig
    from pipelines.create_pretraining_data import run
    from pipelines.sources import wikipedia

    cleaned = []
    clean = wikipedia.wikitext_to_paragraphs

    def counting_clean(wikitext):
        cleaned.append(hash(wikitext))
        return clean(wikitext)

    monkeypatch.setattr(wikipedia, "wikitext_to_paragraphs", counting_clean)
    for pool_size in (5, 10_000):
        cleaned.clear()
        cfg = PipelineConfig(
            inputs=(samples["wiki"],),
            output_dir=str(tmp_path / f"pool{pool_size}"),
            vocab_file=vocab_file,
            dupe_factor=1,
            num_shards=1,
            nsp_pool_size=pool_size,
        )
        stats = run(cfg, ["--direct_num_workers=1"])
        assert stats["documents_read"] == 98
        assert len(cleaned) == len(set(cleaned)) == 98, pool_size
