"""Benchmark: offline sentence splitters — quality on the English "Golden Rules" (the Pragmatic Segmenter's
48 hard cases: abbreviations, numbers, quotes, ellipses; shipped in pysbd's sdist) and speed on the
Wikipedia sample's paragraphs (a benchmark, not a test).

    python -m tools.bench_sentences

Candidates run in a venv of their own (installed on first use): sentencex and pysbd (the pipeline's two
`--sentence_splitter` choices), syntok, blingfire, and a regex baseline. Quality = share of cases split
exactly right, and boundary F1; agreement = boundary F1 against pysbd on the Wikipedia paragraphs, and the
share of paragraphs split exactly as pysbd splits them.
"""

from __future__ import annotations

import bz2
import glob
import json
import os
import subprocess
import sys
import tarfile
import tempfile

from absl import app, flags

from tools.fetch_sample_data import define_cache_dir_flag, fetch
from tools.reference_venv import venv_python

FLAGS = flags.FLAGS
define_cache_dir_flag()
CANDIDATES = [
    "sentencex==1.0.32",
    "pysbd==0.3.4",
    "syntok==1.4.4",
    "blingfire==0.1.8",
    "numpy",
]  # blingfire imports numpy
GOLDEN_SDIST = "pysbd==0.3.3"  # the last sdist with benchmarks/english_golden_rules.py

RUNNER = r"""
import json, re, sys, time
golden, paragraphs = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
import pysbd, blingfire, sentencex
from syntok import segmenter
seg = pysbd.Segmenter(language="en", clean=False)
splitters = {
    "pysbd 0.3.4": lambda t: [s.strip() for s in seg.segment(t) if s.strip()],
    "sentencex 1.0.32": lambda t: [s.strip() for s in sentencex.segment("en", t) if s.strip()],
    "syntok 1.4.4": lambda t: ["".join(tok.spacing + tok.value for tok in s).strip()
                               for p in segmenter.analyze(t) for s in p],
    "blingfire 0.1.8": lambda t: [s for s in blingfire.text_to_sentences(t).split("\n") if s],
    "regex [.!?] + space + capital": lambda t: [s for s in re.split(r'(?<=[.!?])\s+(?=["\'A-Z])', t) if s],
}
def boundaries(sentences):
    text, ends, pos = " ".join(sentences), set(), 0
    for s in sentences[:-1]:
        pos += len(s); ends.add(pos); pos += 1
    return ends
def norm(sentences):  # compare on whitespace-normalised text
    return [" ".join(s.split()) for s in sentences]
def score(pairs):  # (got, expected) lists of sentences -> (exactly right, boundary F1)
    exact = tp = fp = fn = 0
    for got, want in pairs:
        got, want = norm(got), norm(want)
        exact += got == want
        g, o = boundaries(want), boundaries(got)
        tp += len(g & o); fp += len(o - g); fn += len(g - o)
    return exact, 2 * tp / max(2 * tp + fp + fn, 1)
reference = [splitters["pysbd 0.3.4"](p) for p in paragraphs]
for name, split in splitters.items():
    exact, f1 = score((split(text), gold) for text, gold in golden)
    start = time.perf_counter(); got = [split(p) for p in paragraphs]; seconds = time.perf_counter() - start
    same, agreement = score(zip(got, reference))
    count = sum(map(len, got))
    print(json.dumps({"name": name, "exact": exact, "cases": len(golden), "f1": f1,
                      "sentences_per_second": count / seconds, "sentences": count,
                      "agreement_f1": agreement, "same_paragraphs": same / len(paragraphs)}))
"""


def golden_rules(into: str) -> list:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-q",
            "-d",
            into,
            GOLDEN_SDIST,
        ],
        check=True,
    )
    (sdist,) = glob.glob(os.path.join(into, "pysbd-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        member = next(
            m for m in tar.getmembers() if m.name.endswith("benchmarks/english_golden_rules.py")
        )
        source = tar.extractfile(member).read().decode("utf-8")
    namespace: dict = {}
    # a data file: one list literal
    exec(compile(source, "english_golden_rules.py", "exec"), namespace)
    return namespace["GOLDEN_EN_RULES"]


def wiki_paragraphs(cache_dir: str) -> list[str]:
    from pipelines.sources import RawDocument, read_documents

    path = fetch("wiki", cache_dir)
    with bz2.open(path) as stream:
        return [
            p
            for d in read_documents(path, stream, "wiki")
            if isinstance(d, RawDocument)
            for p in d.paragraphs
        ]


def main(argv):
    del argv
    with tempfile.TemporaryDirectory() as tmp:
        golden_file, text_file = (
            os.path.join(tmp, "golden.json"),
            os.path.join(tmp, "paragraphs.json"),
        )
        json.dump(golden_rules(tmp), open(golden_file, "w"))
        paragraphs = wiki_paragraphs(FLAGS.cache_dir)
        json.dump(paragraphs, open(text_file, "w"))
        out = subprocess.run(
            [venv_python("sentences", CANDIDATES), "-c", RUNNER, golden_file, text_file],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    print(
        f"\nsentence splitters: Golden Rules (48 cases) and {len(paragraphs)} Wikipedia-sample paragraphs"
    )
    print(
        "| splitter | Golden Rules exact | boundary F1 | agreement with pysbd (boundary F1) "
        "| paragraphs split as pysbd | sentences/s (wiki sample) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for line in out.strip().splitlines():
        r = json.loads(line)
        print(
            f"| {r['name']} | {r['exact']}/{r['cases']} | {r['f1']:.3f} | {r['agreement_f1']:.4f} "
            f"| {r['same_paragraphs']:.1%} | {r['sentences_per_second']:,.0f} |"
        )


if __name__ == "__main__":
    app.run(main)
