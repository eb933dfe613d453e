"""Pre-training records rendered for people: tokens with the masks shown, segments, NSP label, and a
stats.json summary (used by pipelines/inspect_tfrecords.py).

A masked position shows what the model sees and what it must predict: `[MASK]→river` (80%),
`{lake→river}` (a random replacement, 10%) or `{=river}` (kept unchanged, 10%).

Example:
    >>> tokens = ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "river"]
    >>> print(render({"input_ids": [1, 3, 2], "input_mask": [1, 1, 1], "segment_ids": [0, 0, 0],
    ...               "masked_lm_positions": [1], "masked_lm_ids": [4], "masked_lm_weights": [1.0],
    ...               "next_sentence_labels": [0]}, tokens))
    A: [CLS] [MASK]→river [SEP]
       B: —
       NSP: IsNext; 3 tokens, 1 to predict
"""

from __future__ import annotations


def decode(record: bytes) -> dict[str, list]:
    from tensorflow.core.example import example_pb2

    features = example_pb2.Example.FromString(record).features.feature
    return {
        name: list(getattr(feature, feature.WhichOneof("kind")).value)
        for name, feature in features.items()
    }


def _masked(seen: str, target: str) -> str:
    """A predicted position: replaced by [MASK], kept as it was, or replaced by another token."""
    if seen == "[MASK]":
        return f"[MASK]→{target}"
    if seen == target:
        return f"{{={target}}}"
    return f"{{{seen}→{target}}}"


def render(example: dict[str, list], tokens: list[str]) -> str:
    """One example as text: 'A: … | B: … | NSP: IsNext', masked tokens marked as in the module
    doc."""
    length = sum(example["input_mask"])
    ids = example["input_ids"][:length]
    targets = {
        position: label
        for position, label, weight in zip(
            example.get("masked_lm_positions", []),
            example.get("masked_lm_ids", []),
            example.get("masked_lm_weights", []),
        )
        if weight > 0
    }
    words = [
        tokens[token_id]
        if position not in targets
        else _masked(tokens[token_id], tokens[targets[position]])
        for position, token_id in enumerate(ids)
    ]
    segments = example["segment_ids"][:length]
    first_b = segments.index(1) if 1 in segments else length
    label = "NotNext (B is random)" if example["next_sentence_labels"][0] == 1 else "IsNext"
    return (
        f"A: {' '.join(words[:first_b])}\n   B: {' '.join(words[first_b:]) or '—'}\n"
        f"   NSP: {label}; {length} tokens, {len(targets)} to predict"
    )


def stats_summary(stats: dict) -> str:
    lines = [
        f"documents read {stats['documents_read']}, used {stats['documents_used']}; "
        f"instances {stats['instances']}; tokens {stats['tokens']}; masked {stats['masked_tokens']} "
        f"({100 * stats['masked_tokens'] / max(stats['tokens'], 1):.2f}% of tokens)",
        f"NSP labels: {stats['nsp_labels']}",
        f"skipped: {stats['skipped'] or 'nothing'}",
        "length histogram: " + ", ".join(f"{k}: {v}" for k, v in stats["length_histogram"].items()),
    ]
    return "\n".join(lines)
