"""Pre-training, read top-down from the `bert_tf.train` command:

- inputs: `train_inputs` (records → per-replica batches, the resume position), `data`,
  `record_stream`, `dynamic_masking` (re-masking records at another rate);
- the step: `trainer` (the combined MLM + NSP train step under any tf.distribute strategy),
  `losses`, `optimization` (AdamW/LAMB, warmup + decay, the time-budget schedule), `lamb`;
- the loop: `training_loop` (steps, evaluation, checkpoints, logs), `train_metrics`, `curves`
  (curves.png), `distribute` (TPU / Mirrored / MultiWorker / one device), `recipes` (`--recipe`).
"""
