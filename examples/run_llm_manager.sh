#!/usr/bin/env bash
# The README's CPU runs of examples/train_llm_manager.py: train on conv-26, evaluate on conv-30.
# Usage: examples/run_llm_manager.sh TRAIN.json EVAL.json [OUT]; each stage resumes if rerun.
set -euo pipefail
train=$1 eval=$2 out=${3:-runs/llm}
py=${PYTHON:-python}
script=examples/train_llm_manager.py
grpo="--steps 40 --minutes 15 --num-generations 8 --prompts-per-step 2 --train-layers 4"
$py $script eval --data "$eval" --out "$out/eval-untrained"
for seed in 0 1; do
  $py $script grpo --data "$train" --seed $seed $grpo --out "$out/grpo-s$seed"
done
$py $script sft --data "$train" --steps 30 --minutes 6 --train-layers 4 --out "$out/sft"
$py $script grpo --data "$train" --init "$out/sft/model" $grpo --out "$out/sft-grpo"
for run in grpo-s0 grpo-s1 sft sft-grpo; do
  $py $script eval --data "$eval" --init "$out/$run/model" --baselines "" --out "$out/eval-$run"
done
