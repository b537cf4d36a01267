"""GRPO training of an LLM memory manager with TRL's `environment_factory`.

Each training row is one of Memory-R1's training tuples (`episode="window"`): the policy handles
the facts of one turn through the tools add_memory / update_memory / delete_memory /
keep_memory, and the reward, read by TRL from `MemoryToolEnvironment.get_reward()`, is the
answer score on the questions that turn completes (the offline `oracle_support` reader unless
`--answerer` names a real one).

    pip install -e '.[trl]'
    python examples/train_trl_grpo.py --smoke        # CPU: a tiny random model, 2 steps
    python examples/train_trl_grpo.py --model Qwen/Qwen2.5-3B-Instruct \\
        --data locomo10.json --base-url http://127.0.0.1:8000    # GPU, vLLM server for rollouts

The defaults are Memory-R1's GRPO settings: 128 prompts' completions per optimisation step
(`--batch-size`, reached by gradient accumulation), learning rate 1e-6, temperature 1.0, group
size 8. `--base-url` is a `trl vllm-serve` server that generates the rollouts; without it TRL
generates with the training model. `--smoke` needs nothing but the CPU: it builds a 1-layer
model with random weights (`memgym.integrations.tiny_model`), runs two optimisation steps on
the bundled sample and prints the rewards TRL logged. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="tiny random model, CPU, 2 steps")
    parser.add_argument("--model", default=None, help="model name or local folder (GPU recipe)")
    parser.add_argument("--data", default=None, help="locomo10.json (default: bundled sample)")
    parser.add_argument("--split", default="train")
    parser.add_argument("--answerer", default="oracle_support", help="the reward's reader")
    parser.add_argument("--base-url", default=None, help="trl vllm-serve server for rollouts")
    parser.add_argument("--output-dir", default="runs/grpo-memory-manager")
    parser.add_argument("--batch-size", type=int, default=128, help="completions per step")
    parser.add_argument("--per-device-batch", type=int, default=8)
    parser.add_argument("--num-generations", type=int, default=8, help="GRPO group size")
    parser.add_argument("--learning-rate", type=float, default=1e-6)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=-1)
    parser.add_argument("--epochs", type=float, default=1.0)
    args = parser.parse_args()
    if not args.smoke and args.model is None:
        parser.error("give --model NAME (GPU recipe) or --smoke (CPU check)")
    return args


def env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "dataset": "locomo" if args.data else "sample",
        "split": args.split,
        "answerer": args.answerer,
    }
    if args.data:
        kwargs["data"] = args.data
    if args.smoke:
        kwargs["retriever"] = "bm25"  # the smoke run stays seconds long
    return kwargs


def smoke_model(folder: Path, rows: list[dict[str, Any]]) -> str:
    """The tiny model, its tokenizer trained on what the run shows it."""
    from memgym.integrations.tiny_model import tiny_chat_model
    from memgym.integrations.trl import INSTRUCTIONS, MemoryToolEnvironment

    opening = MemoryToolEnvironment().reset(**rows[0])
    return tiny_chat_model(folder, [INSTRUCTIONS, opening])


def training_args(args: argparse.Namespace, output_dir: str) -> Any:
    from trl import GRPOConfig

    if args.smoke:
        from memgym.integrations.tiny_model import smoke_grpo_config

        return smoke_grpo_config(output_dir, temperature=args.temperature)
    accumulation = max(1, args.batch_size // args.per_device_batch)
    vllm: dict[str, Any] = {}
    if args.base_url:
        vllm = {"use_vllm": True, "vllm_mode": "server", "vllm_server_base_url": args.base_url}
    return GRPOConfig(
        output_dir=output_dir,
        per_device_train_batch_size=args.per_device_batch,
        gradient_accumulation_steps=accumulation,
        num_generations=args.num_generations,
        learning_rate=args.learning_rate,
        temperature=args.temperature,
        max_completion_length=512,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        bf16=True,
        logging_steps=1,
        **vllm,
    )


def main() -> None:
    args = parse_args()
    from datasets import Dataset
    from trl import GRPOTrainer

    from memgym.integrations.trl import MemoryToolEnvironment, episode_rows

    rows = episode_rows(**env_kwargs(args))
    print(f"{len(rows)} training tuples; group size {args.num_generations}", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        if args.smoke:
            rows = rows[:2]
            model = smoke_model(Path(scratch) / "tiny-model", rows)
            output_dir = str(Path(scratch) / "out")
        else:
            model, output_dir = args.model, args.output_dir
        trainer = GRPOTrainer(
            model=model,
            args=training_args(args, output_dir),
            train_dataset=Dataset.from_list(rows),
            environment_factory=MemoryToolEnvironment,
        )
        trainer.train()
    logged = [h for h in trainer.state.log_history if "reward" in h]
    for entry in logged:
        print(f"step {entry.get('step')}: mean reward {entry['reward']:.4f}", flush=True)
    print(
        json.dumps(
            {
                "global_step": trainer.state.global_step,
                "rewards": [entry["reward"] for entry in logged],
                "smoke": args.smoke,
            }
        )
    )


if __name__ == "__main__":
    main()
