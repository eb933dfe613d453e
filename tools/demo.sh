#!/usr/bin/env bash
# The project's main job from scratch on a small real sample: Wikipedia XML → a WordPiece vocabulary learned
# from it → Beam → TFRecords → a few minutes of the small-budget recipe (tiny BERT from random init) →
# SavedModel whose fill_mask answers fit the sentence. Beside it, real pretrained weights (all-MiniLM-L6-v2,
# imported from its Hugging Face checkpoint) are fine-tuned into a review classifier; then a short report.
# Override with RUN_DIR=..., DEMO_MINUTES=..., DEMO_DUPE_FACTOR=..., DEMO_REVIEWS=...
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
PY=.venv/bin/python
RUN=${RUN_DIR:-runs/demo}
MINUTES=${DEMO_MINUTES:-2.5}
# The run dir is ours only if an earlier demo made it (marker file); anything else is left alone.
if [ -e "$RUN" ] && [ ! -f "$RUN/.made-by-bert_tf-demo" ] && [ -n "$(ls -A "$RUN" 2>/dev/null)" ]; then
  echo "error: $RUN exists and was not made by tools/demo.sh; set RUN_DIR to a new directory (or delete it yourself)" >&2; exit 1
fi
rm -rf "$RUN" && mkdir -p "$RUN" && touch "$RUN/.made-by-bert_tf-demo"
timings="$RUN/timings.tsv"
stage() {  # stage NAME COMMAND...: runs and times one stage
  local name=$1 start=$SECONDS; shift
  echo; echo "== $name: $*"
  "$@"
  printf '%s\t%s\n' "$name" "$((SECONDS - start))" >> "$timings"
}

stage "fetch sample data" $PY -m tools.fetch_sample_data
SAMPLES=$($PY -m tools.fetch_sample_data)  # cached now: just prints the paths
WIKI=$(awk '$1=="wiki"{print $2}' <<< "$SAMPLES")
MINILM=$(awk '$1=="minilm"{print $2}' <<< "$SAMPLES")
REVIEWS=$(awk '$1=="rotten_tomatoes"{print $2}' <<< "$SAMPLES")
half=$(( $(nproc) / 2 > 1 ? $(nproc) / 2 : 1 ))
# Fine-tuning needs only the imported weights, so it runs from the start on half the cores, beside the
# vocabulary, the pipeline and pre-training (its output goes to $RUN/finetune.log). The sentence-embedding
# checkpoint has no MLM/NSP heads; the classifier needs none. 1,000 Rotten Tomatoes reviews → a SavedModel
# that labels raw reviews.
echo; echo "== import all-MiniLM-L6-v2 and fine-tune it (beside pre-training; output in $RUN/finetune.log)"
( export TF_NUM_INTRAOP_THREADS=$half TF_NUM_INTEROP_THREADS=$half
  stage "import pretrained checkpoint" $PY -m bert_tf.import_hf_checkpoint --hf_dir="$MINILM" --output_dir="$RUN/minilm"
  stage "fine-tune" $PY -m bert_tf.finetune --init_checkpoint="$RUN/minilm" --train_file="$REVIEWS" \
  --text_column=text --label_column=category --labels=fresh,rotten --max_train_examples="${DEMO_REVIEWS:-1000}" \
  --epochs=2 --max_seq_length=64 --learning_rate=1e-4 --pooling=mean --output_dir="$RUN/sentiment" ) \
  > "$RUN/finetune.log" 2>&1 &
finetune=$!
trap 'pkill -P "$finetune" 2>/dev/null; kill "$finetune" 2>/dev/null' EXIT  # a failed stage stops it too
# A vocabulary of the corpus itself: 4,096 pieces suit a tiny model on a few MB of text (bert-base's 30,522
# would spend most of each step on the softmax).
stage "learn a vocabulary" $PY -m pipelines.build_vocab --input="$WIKI" --input_format=wiki \
  --vocab_size=4096 --output="$RUN/vocab.txt"
# 64-token sequences: a fill_mask query is one sentence, and a step costs half of one at 128 tokens.
stage "create pre-training data" $PY -m pipelines.create_pretraining_data --input="$WIKI" --input_format=wiki \
  --vocab="$RUN/vocab.txt" --output_dir="$RUN/data" --dupe_factor="${DEMO_DUPE_FACTOR:-2}" --num_shards=4 \
  --max_seq_length=64 --max_predictions_per_seq=10
# The small-budget recipe (README: Pre-train from scratch) for a few minutes of training time.
stage "pre-train from scratch" $PY -m bert_tf.train --strategy=cpu --recipe=budget --bert_config=tiny \
  --train_files="$RUN/data/train-*.tfrecord" --vocab="$RUN/vocab.txt" --model_dir="$RUN/model" \
  --max_seq_length=64 --max_predictions_per_seq=10 --train_minutes="$MINUTES" --log_every=200 --seed=1
stage "export" $PY -m bert_tf.export --checkpoint="$RUN/model" --output="$RUN/saved_model"
echo; echo "== waiting for fine-tuning ($RUN/finetune.log)"
wait "$finetune" || { tail -n 20 "$RUN/finetune.log" >&2; echo "error: fine-tuning failed; its output is in $RUN/finetune.log" >&2; exit 1; }
trap - EXIT
grep -E "^Epoch|step - |held-out accuracy" "$RUN/finetune.log"
$PY -m tools.report_run --run_dir="$RUN" --reviews="$REVIEWS"
