"""GRPO training of an LLM memory manager with TRL's `environment_factory` (needs a GPU).

    pip install -e '.[trl]'
    python examples/train_trl_grpo.py --model Qwen/Qwen2.5-0.5B-Instruct --data locomo10.json

Each training row is one of Memory-R1's window episodes; the policy manages the bank through
the tools add_memory / update_memory / delete_memory / keep_memory, and the reward is the
downstream answer score (the support oracle by default), read by TRL from
`MemoryToolEnvironment.get_reward()`. Needs transformers >= 5.2; not run in CI.
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="Qwen/Qwen2.5-0.5B-Instruct")
    parser.add_argument("--data", default=None, help="locomo10.json (default: bundled sample)")
    parser.add_argument("--output-dir", default="runs/grpo-memory-manager")
    parser.add_argument("--num-generations", type=int, default=4)
    args = parser.parse_args()

    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from memgym.integrations.trl import MemoryToolEnvironment, episode_rows

    env_kwargs = {
        "dataset": "locomo" if args.data else "sample",
        "data": args.data,
        "split": "train",
    }
    rows = episode_rows(**env_kwargs)
    for row in rows:
        row["env_kwargs"] = {k: v for k, v in env_kwargs.items() if v is not None}
    trainer = GRPOTrainer(
        model=args.model,
        train_dataset=Dataset.from_list(rows),
        environment_factory=MemoryToolEnvironment,
        args=GRPOConfig(
            output_dir=args.output_dir,
            num_generations=args.num_generations,
            per_device_train_batch_size=args.num_generations,
            max_completion_length=512,
            learning_rate=1e-6,
            temperature=1.0,
            logging_steps=1,
        ),
    )
    trainer.train()


if __name__ == "__main__":
    main()
