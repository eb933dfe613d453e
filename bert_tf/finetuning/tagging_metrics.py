"""Entity-level precision, recall and F1 for BIO-tagged sequences, as seqeval computes them by default
(the CoNLL-2000 `conlleval` rules), and token accuracy. Pure Python: no TensorFlow.

An entity is a maximal chunk of one type: `B-X` starts one, `I-X` continues an `X` chunk and also starts one
after `O` or after another type (the lenient IOB1 reading `conlleval` uses), `O` ends it. `E-`/`S-`
(IOBES) are read too. A predicted entity counts only when its type, start and end all match.

Example:
    >>> sorted(entities(["B-PER", "I-PER", "O", "I-LOC", "B-LOC"]))
    [('LOC', 3, 4), ('LOC', 4, 5), ('PER', 0, 2)]
    >>> entity_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])["f1"]
    0.0
"""

from __future__ import annotations


def _split(tag: str) -> tuple[str, str]:
    """('B', 'PER') for 'B-PER', ('O', '') for 'O'; a tag without a prefix is an `I-` of its name."""
    if tag == "O" or not tag:
        return "O", ""
    prefix, _, kind = tag.partition("-")
    if kind and prefix in ("B", "I", "E", "S"):
        return prefix, kind
    return "I", tag


def _ends(prev: str, prev_kind: str, prefix: str, kind: str) -> bool:
    """Whether the chunk open at the previous tag ends before this one (conlleval's endOfChunk)."""
    if prev in ("E", "S"):
        return True
    if prev in ("B", "I") and prefix in ("B", "S", "O"):
        return True
    return prev != "O" and prev_kind != kind


def _starts(prev: str, prev_kind: str, prefix: str, kind: str) -> bool:
    """Whether a chunk starts at this tag (conlleval's startOfChunk)."""
    if prefix in ("B", "S"):
        return True
    if prefix in ("I", "E") and prev in ("E", "S", "O"):
        return True
    return prefix != "O" and prev_kind != kind


def entities(tags: list[str]) -> set[tuple[str, int, int]]:
    """Every entity of one sentence as (type, first index, end index exclusive)."""
    found, start, prev, prev_kind = set(), None, "O", ""
    for index, tag in enumerate([*tags, "O"]):
        prefix, kind = _split(tag)
        if start is not None and _ends(prev, prev_kind, prefix, kind):
            found.add((prev_kind, start, index))
            start = None
        if _starts(prev, prev_kind, prefix, kind):
            start = index
        prev, prev_kind = prefix, kind
    return found


def entity_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, float]:
    """Micro-averaged entity precision, recall, F1 and token accuracy over sentences; 0 where a
    denominator is 0. ValueError if a sentence's two tag lists differ in length."""
    matched = n_gold = n_predicted = correct_tokens = n_tokens = 0
    for number, (truth, guess) in enumerate(zip(gold, predicted, strict=True)):
        if len(truth) != len(guess):
            raise ValueError(
                f"sentence {number}: {len(truth)} gold tags but {len(guess)} predicted tags"
            )
        true_entities, guessed_entities = entities(truth), entities(guess)
        matched += len(true_entities & guessed_entities)
        n_gold += len(true_entities)
        n_predicted += len(guessed_entities)
        correct_tokens += sum(t == g for t, g in zip(truth, guess))
        n_tokens += len(truth)
    precision = matched / n_predicted if n_predicted else 0.0
    recall = matched / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "token_accuracy": correct_tokens / n_tokens if n_tokens else 0.0,
    }
