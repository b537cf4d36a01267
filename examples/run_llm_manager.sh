#!/usr/bin/env bash
# The README's CPU runs of examples/train_llm_manager.py: train on conv-26, evaluate on conv-30.
# Usage: examples/run_llm_manager.sh TRAIN.json EVAL.json [OUT]. A stage whose summary.json
# exists is skipped; an interrupted one resumes from its last checkpoint.
set -euo pipefail
train=$1 eval=$2 out=${3:-runs/llm}
py=${PYTHON:-python}
script=examples/train_llm_manager.py
grpo="--steps 40 --minutes 10 --num-generations 8 --prompts-per-step 1 --train-layers 4"
grpo="$grpo --learning-rate 5e-5"
stage() { # stage NAME ARGS...: run unless NAME already has its summary
  local name=$1; shift
  [ -f "$out/$name/summary.json" ] || $py $script "$@" --out "$out/$name"
}
stage eval-untrained eval --data "$eval"
for seed in 0 1; do
  stage grpo-s$seed grpo --data "$train" --seed $seed $grpo
done
stage sft sft --data "$train" --steps 30 --minutes 4 --train-layers 4
stage sft-grpo grpo --data "$train" --init "$out/sft/model" $grpo
for run in grpo-s0 grpo-s1 sft sft-grpo; do
  stage eval-$run eval --data "$eval" --init "$out/$run/model" --baselines ""
done
