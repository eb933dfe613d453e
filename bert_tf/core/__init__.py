"""What both stages share — the Beam pipeline (pipelines/) imports nothing else from bert_tf:

- `vocab` (WordPiece vocabulary files), `features` (the TFRecord schema of a pre-training example),
  `masking` (the masked-LM draw: pure NumPy, also used to re-mask records while training);
- `storage` (local and gs:// files), `outputs` (outputs published whole, never over what a run did
  not write), `cli` (flag checks and one-line errors), `quiet` (TensorFlow's load-time noise),
  `original_flags` (google-research/bert's flag names).
"""
