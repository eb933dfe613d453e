#!/usr/bin/env bash
# The whole job on a small real sample: Wikipedia XML → Beam → TFRecords → tiny BERT training →
# SavedModel, then a short report. Override with RUN_DIR=..., DEMO_STEPS=..., DEMO_DUPE_FACTOR=...
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
export TF_CPP_MIN_LOG_LEVEL=2
PY=.venv/bin/python
RUN=${RUN_DIR:-runs/demo}
STEPS=${DEMO_STEPS:-300}
rm -rf "$RUN" && mkdir -p "$RUN"
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
VOCAB=$(awk '$1=="vocab"{print $2}' <<< "$SAMPLES")
stage "create pre-training data" $PY -m pipelines.create_pretraining_data --input="$WIKI" --input_format=wiki \
  --vocab="$VOCAB" --output_dir="$RUN/data" --dupe_factor="${DEMO_DUPE_FACTOR:-5}" --num_shards=4
stage "train" $PY -m bert_tf.train --strategy=cpu --bert_config=tiny --vocab="$VOCAB" \
  --train_files="$RUN/data/train-*.tfrecord" --model_dir="$RUN/model" --train_batch_size=32 \
  --num_train_steps="$STEPS" --num_warmup_steps=$((STEPS / 10)) --learning_rate=1e-3 --log_every=25 \
  --checkpoint_every=100 --seed=1
stage "export" $PY -m bert_tf.export --checkpoint="$RUN/model" --output="$RUN/saved_model"
$PY -m tools.report_run --run_dir="$RUN"
