"""One benchmark cell of tools/bench_train.py in the Model Garden's own venv (tools/reference_venv.py):
BertEncoder + BertPretrainerV2, AdamW, clip 1.0; prints the median seconds per step as JSON.

    python model_garden_train_step.py LAYERS HIDDEN POLICY BATCH_NPZ STEPS WARMUP
"""

import json
import sys
import time

import numpy as np
import tensorflow as tf
import tf_keras
from official.nlp.modeling import layers, models, networks

size_layers, hidden_size, policy, batch_file, step_count, warmup_count = sys.argv[1:7]
num_layers, hidden, steps, warmup = (
    int(size_layers),
    int(hidden_size),
    int(step_count),
    int(warmup_count),
)
tf_keras.mixed_precision.set_global_policy(policy)
batch = dict(np.load(batch_file))
encoder = networks.BertEncoder(
    vocab_size=30522,
    hidden_size=hidden,
    num_layers=num_layers,
    num_attention_heads=hidden // 64,
    inner_dim=4 * hidden,
    max_sequence_length=512,
    type_vocab_size=2,
)
model = models.BertPretrainerV2(
    encoder_network=encoder,
    classification_heads=[
        layers.ClassificationHead(inner_dim=hidden, num_classes=2, name="next_sentence")
    ],
)
optimizer = tf_keras.optimizers.AdamW(1e-4, weight_decay=0.01, epsilon=1e-6)
inputs = {
    "input_word_ids": batch["input_ids"],
    "input_mask": batch["input_mask"],
    "input_type_ids": batch["segment_ids"],
    "masked_lm_positions": batch["masked_lm_positions"],
}


@tf.function
def step():
    with tf.GradientTape() as tape:
        out = model(inputs, training=True)
        mlm = tf_keras.losses.sparse_categorical_crossentropy(
            batch["masked_lm_ids"], tf.cast(out["mlm_logits"], tf.float32), from_logits=True
        )
        weights = batch["masked_lm_weights"]
        nsp = tf_keras.losses.sparse_categorical_crossentropy(
            batch["next_sentence_labels"][:, 0],
            tf.cast(out["next_sentence"], tf.float32),
            from_logits=True,
        )
        loss = tf.reduce_sum(mlm * weights) / tf.reduce_sum(weights) + tf.reduce_mean(nsp)
    grads = tape.gradient(loss, model.trainable_variables)
    grads, _ = tf.clip_by_global_norm(grads, 1.0)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


for _ in range(warmup):
    step().numpy()
times = []
for _ in range(steps):
    started = time.perf_counter()
    step().numpy()
    times.append(time.perf_counter() - started)
print(json.dumps({"seconds": float(np.median(times))}))
