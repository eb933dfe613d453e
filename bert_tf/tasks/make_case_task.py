"""A real tagging task from any cased text in the one-sentence-per-line format: truecasing, the case
class of every word of a sentence that an uncased model sees lower-cased. Names, titles and acronyms
are what it has to find from context, so it measures what the encoder knows about words in use.
Held out by document (e.g. KJV chapter), so no held-out sentence is ever trained on.

    python -m bert_tf.tasks.make_case_task --input=kjv-lines.txt --output_dir=runs/kjv_case
    python -m bert_tf.finetune --task=tagging --train_file=runs/kjv_case/train.conll \\
        --eval_file=runs/kjv_case/eval.conll --init_checkpoint=runs/minilm --output_dir=runs/case

Words are split as the served tagger splits raw text (`bert_tf.finetuning.tagging_data.split_words`). Classes:
`CAP` (first letter upper-case, no other upper-case letter: "Paris", "I"), `UPPER` (two or more
letters, all upper-case: "LORD"), `MIXED` (any other use of upper case: "McDonald", "iPhone") and `O`
(no upper-case letter, or no letter at all). Adjacent `CAP` words form one entity under conlleval's
rules ("New York"), so entity F1 scores capitalised spans and token accuracy every word. Every
`--eval_every`-th document is held out; sentences of fewer than --min_words words are counted and left
out. Output: train.conll and eval.conll (a word and its class per line, a blank line between
sentences).
"""

from __future__ import annotations

import random

from absl import flags

from bert_tf.core import cli, storage
from bert_tf.finetuning.tagging_data import split_words
from bert_tf.tasks.make_pair_task import held_out_by_document, new_task_files, read_documents

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Called only when run as a program, so importing the functions defines no flag."""
    flags.DEFINE_string("input", None, "One sentence per line, a blank line between documents.")
    flags.DEFINE_string("output_dir", None, "Writes train.conll and eval.conll here (new files).")
    flags.DEFINE_integer("eval_every", 10, "Every N-th document is held out.")
    flags.DEFINE_integer("max_train_sentences", 4000, "At most this many training sentences.")
    flags.DEFINE_integer("max_eval_sentences", 1000, "At most this many held-out sentences.")
    flags.DEFINE_integer("min_words", 3, "Shorter sentences are left out (counted).")
    flags.DEFINE_integer("seed", 7, "Seed for the choice of sentences.")


def case_class(word: str) -> str:
    """The case class of one word.

    >>> [case_class(w) for w in ["Paris", "I", "LORD", "McDonald", "iPhone", "the", "1984", ","]]
    ['CAP', 'CAP', 'UPPER', 'MIXED', 'MIXED', 'O', 'O', 'O']
    """
    upper = [c.isupper() for c in word if c.isalpha()]
    if not any(upper):
        return "O"
    if upper[0] and not any(upper[1:]):
        return "CAP"
    return "UPPER" if all(upper) and len(upper) > 1 else "MIXED"


def tagged_sentences(documents: list[list[str]], min_words: int) -> tuple[list, int]:
    """(every sentence of at least `min_words` words as (words, classes), sentences left out)."""
    sentences, short = [], 0
    for line in (line for document in documents for line in document):
        words = split_words(line)
        if len(words) < min_words:
            short += 1
            continue
        sentences.append((words, [case_class(word) for word in words]))
    return sentences, short


def write_conll(sentences: list, path: str) -> None:
    """Sentences in the CoNLL layout, written beside and renamed into place whole."""
    with storage.written_whole(path) as f:
        for words, tags in sentences:
            f.writelines(f"{word} {tag}\n" for word, tag in zip(words, tags))
            f.write("\n")


def make_task(
    input_path: str,
    output_dir: str,
    eval_every: int,
    max_train: int,
    max_eval: int,
    min_words: int,
    seed: int,
) -> dict[str, int]:
    """Writes train.conll and eval.conll (refusing to replace existing ones); returns counts."""
    targets = new_task_files(output_dir, ("train.conll", "eval.conll"))
    documents = read_documents(input_path)
    kept, held = held_out_by_document(documents, eval_every)
    rng, counts = random.Random(seed), {"documents": len(documents)}
    for name, split, limit, path in (
        ("train", kept, max_train, targets[0]),
        ("eval", held, max_eval, targets[1]),
    ):
        sentences, short = tagged_sentences(split, min_words)
        chosen = sorted(rng.sample(range(len(sentences)), min(limit, len(sentences))))
        if not chosen:
            raise ValueError(f"{input_path}: no {name} sentence of {min_words}+ words")
        write_conll([sentences[i] for i in chosen], path)
        counts.update({f"{name}_documents": len(split), f"{name}_sentences": len(chosen)})
        counts[f"{name}_short_sentences_left_out"] = short
    return counts


def main(argv):
    del argv
    counts = make_task(
        FLAGS.input,
        FLAGS.output_dir,
        FLAGS.eval_every,
        FLAGS.max_train_sentences,
        FLAGS.max_eval_sentences,
        FLAGS.min_words,
        FLAGS.seed,
    )
    print(f"wrote {FLAGS.output_dir}/train.conll and eval.conll: {counts}")


# the installed console command (flags are defined only when it runs, so importing defines none)
command = cli.command(main, required=("input", "output_dir"), define_flags=define_flags)


if __name__ == "__main__":
    command()
