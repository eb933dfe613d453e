"""Run as a script in a fresh process: loads a SavedModel with only tensorflow + tensorflow_text (no
project code on the path), calls every signature on normal, hostile and fuzzed inputs, prints JSON.

    python serve_in_fresh_process.py SAVED_MODEL_DIR '[101, 1996, 102]'
"""

import json
import random
import sys

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the tokenizer ops)

assert not any(m.split(".")[0] in ("bert_tf", "pipelines", "tests") for m in sys.modules), (
    "project code imported"
)


def fuzzed_strings(count: int, seed: int = 0) -> list[bytes]:
    """Random code points from every plane (no surrogates), plus a few invalid UTF-8 byte strings."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if i % 50 == 0:
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))))
            continue
        chars = []
        for _ in range(rng.randrange(0, 60)):
            code = rng.choice(
                [
                    rng.randrange(32, 127),
                    rng.randrange(0x80, 0x3000),
                    rng.randrange(0x4E00, 0xA000),
                    rng.randrange(0x1F300, 0x1FAFF),
                    rng.randrange(0, 0x110000),
                ]
            )
            if 0xD800 <= code <= 0xDFFF:
                code = 0x20
            chars.append(chr(code))
        out.append("".join(chars).encode("utf-8"))
    return out


def main(saved_model: str, ids: list[int]) -> dict:
    bert = tf.saved_model.load(saved_model)
    sig = bert.signatures
    result = {"signatures": sorted(sig.keys())}
    single = sig["serving_default"](
        text=tf.constant(["The river bank.", ""]), text_b=tf.constant([], tf.string)
    )
    result["text_pooled"] = single["pooled_output"].numpy()[0].tolist()
    result["text_mask"] = single["input_mask"].numpy().tolist()
    n = len(ids)
    enc = sig["encode"](
        input_word_ids=tf.constant([ids]),
        input_mask=tf.ones([1, n], tf.int32),
        input_type_ids=tf.zeros([1, n], tf.int32),
    )
    result["encode_pooled"] = enc["pooled_output"].numpy()[0].tolist()
    result["encode_seq_shape"] = enc["sequence_output"].shape.as_list()
    pair = sig["serving_default"](
        text=tf.constant(["The river bank.", "Alone."]), text_b=tf.constant(["It flooded.", ""])
    )
    result["pair_mask"] = pair["input_mask"].numpy().tolist()
    fill = sig["fill_mask"](
        text=tf.constant(["The [MASK] bank was [MASK].", "No mask here.", "[MASK]"])
    )
    result["fill_mask"] = {
        k: (v.numpy().astype(str) if v.dtype == tf.string else v.numpy()).tolist()
        for k, v in fill.items()
    }
    if "next_sentence" in sig:
        nsp = sig["next_sentence"](
            text_a=tf.constant(["The river bank.", "x"]), text_b=tf.constant(["It flooded.", ""])
        )
        result["is_next_probability"] = nsp["is_next_probability"].numpy().tolist()
    bank = sig["serving_default"](
        text=tf.constant(
            [
                "The river bank was flooded.",
                "She opened a bank account.",
                "The river bank was flooded.",
            ]
        ),
        text_b=tf.constant([], tf.string),
    )
    vectors = bank["sequence_output"].numpy()
    # "bank" (one wordpiece each, after [CLS])
    vectors = [
        vectors[0, 3],
        vectors[1, 4],
        vectors[2, 3],
    ]

    def cosine(u, v):
        return float(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v))

    result["bank_cosine_different_context"] = cosine(vectors[0], vectors[1])
    result["bank_cosine_same_context"] = cosine(vectors[0], vectors[2])
    hostile = [
        b"",
        b"x" * 10_000,
        ("word " * 2_000).encode(),
        "Вода течёт. 水は流れる。 الماء يجري".encode(),
        b"!!! ... ??? ;;; ---",
        "[MASK] ".encode() * 300,
        "Ünable naïve café".encode(),
    ]
    hostile += fuzzed_strings(1_000)
    finite, rows = True, 0
    for start in range(0, len(hostile), 100):
        batch = tf.constant(hostile[start : start + 100])
        outputs = [
            sig["serving_default"](text=batch, text_b=tf.reverse(batch, [0])),
            sig["fill_mask"](text=batch),
        ]
        if "next_sentence" in sig:
            outputs.append(sig["next_sentence"](text_a=batch, text_b=tf.reverse(batch, [0])))
        for out in outputs:
            for value in out.values():
                if value.dtype.is_floating:
                    finite &= bool(np.isfinite(value.numpy()).all())
        rows += int(batch.shape[0])
    result["hostile_rows"] = rows
    result["hostile_all_finite"] = finite
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], json.loads(sys.argv[2]))))
