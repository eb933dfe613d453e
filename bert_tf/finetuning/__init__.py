"""Fine-tuning, one module per concern for each task the `bert_tf.finetune` command runs:

- shared: `finetune_common` (config, encoder, optimizer, results);
- sentence (pair) classification: `finetune_classification`, `classifier`;
- token tagging: `finetune_tagging`, `tagger` (model + serving), `tagging_data`, `tagging_metrics`;
- extractive QA: `finetune_span_qa`, `span_qa` (model + serving), `squad_data`, `span_answers`
  (the n-best answer search), `sliding_windows` (long inputs as `--doc_stride` windows).
"""
