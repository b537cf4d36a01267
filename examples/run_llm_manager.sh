#!/usr/bin/env bash
# The README's CPU runs of examples/train_llm_manager.py: train on conv-26, evaluate on conv-30.
# Usage: [READER_URL=http://host:port/v1] examples/run_llm_manager.sh TRAIN.json EVAL.json [OUT].
# A stage whose summary.json exists is skipped; an interrupted one resumes from its last
# checkpoint.
set -euo pipefail
train=$1 eval=$2 out=${3:-runs/llm}
py=${PYTHON:-python}
script=examples/train_llm_manager.py
grpo="--steps 40 --minutes 29 --num-generations 8 --prompts-per-step 1 --train-layers 4"
grpo="$grpo --learning-rate 5e-5"
stage() { # stage NAME ARGS...: run unless NAME already has its summary
  local name=$1; shift
  [ -f "$out/$name/summary.json" ] || $py $script "$@" --out "$out/$name"
}
stage eval-rules eval --data "$eval" --init none --baselines fill,evict,salience,supervised,ppo,evidence
stage eval-untrained eval --data "$eval" --baselines ""
for seed in 0 1; do
  stage grpo-s$seed grpo --data "$train" --seed $seed $grpo
done
stage sft sft --data "$train" --steps 30 --minutes 4 --train-layers 4
stage sft-grpo grpo --data "$train" --init "$out/sft/model" ${grpo/--minutes 29/--minutes 10}
for run in grpo-s0 grpo-s1 sft sft-grpo; do
  stage eval-$run eval --data "$eval" --init "$out/$run/model" --baselines ""
done
# The same loop with a frozen reader as the reward (a server such as llama.cpp's at
# READER_URL): 5 GRPO steps of group 4 on conv-26's first segment, answers cached on disk.
if [ -n "${READER_URL:-}" ]; then
  stage reader-grpo grpo --data "$train" --init "$out/grpo-s0/model" --segments 0 --steps 5 \
    --num-generations 4 --prompts-per-step 1 --train-layers 4 --learning-rate 5e-5 \
    --answer-k 10 --reader-url "$READER_URL" --reader-model "${READER_MODEL:-reader}" \
    --reward-cache "$out/reader-cache" --minutes 30
fi
