"""A real extractive-QA set in SQuAD v1.1 layout from any cased text in the one-sentence-per-line
format: cloze questions. Held out by document, so no held-out paragraph is ever trained on.

    python -m bert_tf.tasks.make_cloze_task --input=kjv-lines.txt --output_dir=runs/kjv_cloze
    python -m bert_tf.finetune --task=span_qa --train_file=runs/kjv_cloze/train.json \\
        --eval_file=runs/kjv_cloze/eval.json --init_checkpoint=runs/minilm --output_dir=runs/cloze

Rules: a document's lines are grouped into paragraphs of --sentences_per_paragraph. In each paragraph
the candidates are the names (maximal runs of capitalised words, `make_case_task.case_class`, the
first of two or more letters and not at the start of the sentence or after a punctuation mark) and the
numbers of its sentences; one candidate is drawn by the seed. The
question is that sentence with the span replaced by a wh-word ("what" for a name, "how many" for a
number); the answer is the span where it stands in the paragraph. No answer text is asked more than
--max_per_answer times per split. A paragraph without a candidate gives no question and is counted. Words are split as the served models split text
(`bert_tf.finetuning.tagging_data.word_spans`). Output: train.json and eval.json.
"""

from __future__ import annotations

import collections
import json
import random

from absl import flags

from bert_tf.core import cli, storage
from bert_tf.finetuning.tagging_data import word_spans
from bert_tf.tasks.make_case_task import case_class
from bert_tf.tasks.make_pair_task import held_out_by_document, new_task_files, read_documents

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Called only when run as a program, so importing the functions defines no flag."""
    flags.DEFINE_string("input", None, "One sentence per line, a blank line between documents.")
    flags.DEFINE_string("output_dir", None, "Writes train.json and eval.json here (new files).")
    flags.DEFINE_integer("sentences_per_paragraph", 5, "Lines of a document per context.")
    flags.DEFINE_integer("eval_every", 10, "Every N-th document is held out.")
    flags.DEFINE_integer("max_train_questions", 4000, "At most this many training questions.")
    flags.DEFINE_integer("max_eval_questions", 1000, "At most this many held-out questions.")
    flags.DEFINE_integer(
        "max_per_answer",
        5,
        "An answer text is asked about at most this often per split, so the commonest names "
        "(in the KJV: LORD, God) cannot be guessed without reading.",
    )
    flags.DEFINE_integer("seed", 7, "Seed for the choice of spans and questions.")


def _is_name(word: str, previous: str | None) -> bool:
    """A capitalised word of two or more letters that neither starts the sentence nor follows a
    punctuation mark (where quotes and clauses start capitalised: "said, Behold")."""
    letters = sum(c.isalpha() for c in word)
    after_word = previous is not None and previous[-1].isalnum()
    return case_class(word) != "O" and letters > 1 and after_word


def candidate_spans(sentence: str) -> list[tuple[int, int, str]]:
    """(start, end, wh-word) character spans that can be asked about: names and numbers.

    >>> candidate_spans("And Moses went up unto Mount Sinai, 40 days. He said, Go.")
    [(4, 9, 'what'), (23, 34, 'what'), (36, 38, 'how many')]
    """
    spans, run, previous = [], [], None
    for start, end in word_spans(sentence):
        word = sentence[start:end]
        if _is_name(word, previous) or (run and case_class(word) != "O"):
            run.append((start, end))
        else:
            if run:
                spans.append((run[0][0], run[-1][1], "what"))
                run = []
            if word.isdigit():
                spans.append((start, end, "how many"))
        previous = word
    return spans + [(run[0][0], run[-1][1], "what")] if run else spans


def cloze_question(
    paragraph: list[str],
    rng: random.Random,
    qid: str,
    asked: collections.Counter,
    max_per_answer: int,
) -> tuple[str, dict] | None:
    """(context, SQuAD question) for one paragraph, or None when it has nothing to ask about that was
    not already the answer `max_per_answer` times (`asked` counts answers so far)."""
    offsets = [sum(len(line) + 1 for line in paragraph[:i]) for i in range(len(paragraph))]
    candidates = [
        (i, span)
        for i, line in enumerate(paragraph)
        for span in candidate_spans(line)
        if asked[line[span[0] : span[1]]] < max_per_answer
    ]
    if not candidates:
        return None
    i, (start, end, wh) = rng.choice(candidates)
    line = paragraph[i]
    asked[line[start:end]] += 1
    question = line[:start] + wh + line[end:]
    answer = {"text": line[start:end], "answer_start": offsets[i] + start}
    return " ".join(paragraph), {"id": qid, "question": question, "answers": [answer]}


def squad_articles(
    documents: list[list[str]], size: int, rng, limit: int, max_per_answer: int
) -> tuple[list, int, int]:
    """(SQuAD articles of at most `limit` questions drawn evenly, questions, paragraphs without)."""
    asked = collections.Counter()
    paragraphs = [
        (d, k, document[k : k + size])
        for d, document in enumerate(documents)
        for k in range(0, len(document), size)
    ]
    questions = [
        (d, cloze_question(p, rng, f"{d}-{k // size}", asked, max_per_answer))
        for d, k, p in paragraphs
    ]
    usable = [(d, item) for d, item in questions if item is not None]
    chosen = sorted(rng.sample(range(len(usable)), min(limit, len(usable))))
    articles = {}
    for d, (context, qa) in (usable[i] for i in chosen):
        article = articles.setdefault(d, {"title": f"document {d}", "paragraphs": []})
        article["paragraphs"].append({"context": context, "qas": [qa]})
    return list(articles.values()), len(chosen), len(questions) - len(usable)


def make_task(
    input_path: str,
    output_dir: str,
    size: int,
    eval_every: int,
    limits: tuple[int, int],
    seed: int,
    max_per_answer: int = 5,
) -> dict[str, int]:
    """Writes train.json and eval.json (refusing to replace existing ones); returns counts."""
    targets = new_task_files(output_dir, ("train.json", "eval.json"))
    documents = read_documents(input_path)
    kept, held = held_out_by_document(documents, eval_every)
    rng, counts = random.Random(seed), {"documents": len(documents)}
    for name, split, limit, path in zip(("train", "eval"), (kept, held), limits, targets):
        articles, questions, without = squad_articles(split, size, rng, limit, max_per_answer)
        if not questions:
            raise ValueError(
                f"{input_path}: no {name} paragraph holds a name or a number to ask about"
            )
        with storage.written_whole(path) as f:
            json.dump({"version": "1.1", "data": articles}, f, ensure_ascii=False)
        counts.update(
            {f"{name}_questions": questions, f"{name}_paragraphs_without_question": without}
        )
    return counts


def main(argv):
    del argv
    counts = make_task(
        FLAGS.input,
        FLAGS.output_dir,
        FLAGS.sentences_per_paragraph,
        FLAGS.eval_every,
        (FLAGS.max_train_questions, FLAGS.max_eval_questions),
        FLAGS.seed,
        FLAGS.max_per_answer,
    )
    print(f"wrote {FLAGS.output_dir}/train.json and eval.json: {counts}")


# the installed console command (flags are defined only when it runs, so importing defines none)
command = cli.command(main, required=("input", "output_dir"), define_flags=define_flags)


if __name__ == "__main__":
    command()
