"""A real sentence-pair task from a corpus in the one-sentence-per-line format: "does sentence B
follow sentence A?", held out by document (e.g. KJV chapter) so no held-out text is ever trained on.

    python -m bert_tf.tasks.make_pair_task --input=kjv-lines.txt --output_dir=runs/kjv_pairs
    python -m bert_tf.finetune --train_file=runs/kjv_pairs/train.csv --eval_file=runs/kjv_pairs/eval.csv \\
        --text_column=text --text_b_column=text_b --label_column=label --init_checkpoint=runs/minilm ...

Every adjacent pair of lines of a document is a candidate; half the pairs (chosen by a seeded RNG)
keep the true next line (label `next`), the other half get a line of another document of the same
split (label `random`). Every `--eval_every`-th document goes to eval.csv. Documents with fewer than
two lines give no pair and are counted.
"""

from __future__ import annotations

import csv
import os
import random

from absl import flags

from bert_tf.core import cli, storage

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Called only when run as a program, so importing the functions defines no flag."""
    flags.DEFINE_string("input", None, "One sentence per line, a blank line between documents.")
    flags.DEFINE_string(
        "output_dir", None, "Writes train.csv and eval.csv (columns text, text_b, label) here."
    )
    flags.DEFINE_integer("eval_every", 10, "Every N-th document is held out.")
    flags.DEFINE_integer(
        "max_train_pairs", 4000, "At most this many training pairs (drawn evenly by the seed)."
    )
    flags.DEFINE_integer("max_eval_pairs", 1000, "At most this many held-out pairs.")
    flags.DEFINE_integer("seed", 7, "Seed for pair choice and negatives.")


def read_documents(path: str) -> list[list[str]]:
    """Documents as lists of non-empty lines (a blank line ends a document)."""
    documents, current = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                current.append(line)
            elif current:
                documents.append(current)
                current = []
    if current:
        documents.append(current)
    return documents


def held_out_by_document(documents: list, eval_every: int) -> tuple[list, list]:
    """(kept, held out): every `eval_every`-th document is held out.

    >>> held_out_by_document(["a", "b", "c", "d"], 2)
    (['a', 'c'], ['b', 'd'])
    """
    held = [d for i, d in enumerate(documents) if i % eval_every == eval_every - 1]
    kept = [d for i, d in enumerate(documents) if i % eval_every != eval_every - 1]
    return kept, held


def new_task_files(output_dir: str, names: tuple[str, ...]) -> list[str]:
    """The task's output paths in `output_dir` (created); ValueError if one exists already, since a
    task maker replaces nothing it did not write in this run."""
    targets = [os.path.join(output_dir, name) for name in names]
    existing = [path for path in targets if os.path.exists(path)]
    if existing:
        raise ValueError(f"{existing[0]} exists: choose a new --output_dir")
    os.makedirs(output_dir, exist_ok=True)
    return targets


def make_pairs(
    documents: list[list[str]], max_pairs: int, rng: random.Random
) -> list[tuple[str, str, str]]:
    """(A, B, label) rows: label "next" when B is A's next line, "random" when B is from another
    document.

    Example:
        >>> make_pairs([["a1", "a2"], ["b1", "b2"]], 10, random.Random(0))[0][2] in ("next", "random")
        True
    """
    if len(documents) < 2:
        raise ValueError(f"need at least 2 documents for negatives, got {len(documents)}")
    candidates = [(d, i) for d, lines in enumerate(documents) for i in range(len(lines) - 1)]
    chosen = sorted(rng.sample(candidates, min(max_pairs, len(candidates))))
    rows = []
    for d, i in chosen:
        a = documents[d][i]
        if rng.random() < 0.5:
            rows.append((a, documents[d][i + 1], "next"))
            continue
        other = rng.randrange(len(documents) - 1)
        other += other >= d  # any document but this one
        rows.append((a, rng.choice(documents[other]), "random"))
    return rows


def write_csv(rows, path: str) -> None:
    """(text, text_b, label) rows under a header, written beside and renamed into place whole."""
    with storage.written_whole(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "text_b", "label"])
        writer.writerows(rows)


def make_task(
    input_path: str, output_dir: str, eval_every: int, max_train: int, max_eval: int, seed: int
) -> dict[str, int]:
    """Writes train.csv and eval.csv; returns row and document counts."""
    documents = read_documents(input_path)
    usable = [d for d in documents if len(d) >= 2]
    train, held_out = held_out_by_document(usable, eval_every)
    rng = random.Random(seed)
    train_rows, eval_rows = make_pairs(train, max_train, rng), make_pairs(held_out, max_eval, rng)
    os.makedirs(output_dir, exist_ok=True)
    write_csv(train_rows, os.path.join(output_dir, "train.csv"))
    write_csv(eval_rows, os.path.join(output_dir, "eval.csv"))
    return {
        "documents": len(documents),
        "documents_without_pairs": len(documents) - len(usable),
        "train_documents": len(train),
        "eval_documents": len(held_out),
        "train_pairs": len(train_rows),
        "eval_pairs": len(eval_rows),
    }


def main(argv):
    del argv
    counts = make_task(
        FLAGS.input,
        FLAGS.output_dir,
        FLAGS.eval_every,
        FLAGS.max_train_pairs,
        FLAGS.max_eval_pairs,
        FLAGS.seed,
    )
    print(f"wrote {FLAGS.output_dir}/train.csv and eval.csv: {counts}")


# the installed console command (flags are defined only when it runs, so importing defines none)
command = cli.command(main, required=("input", "output_dir"), define_flags=define_flags)


if __name__ == "__main__":
    command()
