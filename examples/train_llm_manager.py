"""Memory-R1's manager recipe, small and on the CPU: SmolLM2-135M-Instruct trained with TRL as a
memory manager under the pressure preset, then scored on a conversation it never saw.

Episodes are `MemoryManagerEnv(episode="segment")`: K consecutive raw turns under
`memory_capacity`, starting from the bank `salience` built from every earlier turn. Training
rows are that env's decisions (`memgym.integrations.reward_function.state_rows`): the text
env's prompt in the compact style at each fact of a conv-26 segment, reached by `salience`.
A completion is scored as Memory-R1 scores its manager: it is applied in that state, `salience`
finishes the segment, and the reward is the share of the segment's questions the bank then
supports (ORACLE proxy), with the env's penalty for an invalid operation. Evaluation plays
whole segments of another conversation with the model alone, in the same prompt and reply
format (`MemoryManagerEnv-text-v0`, `prompt_style="compact"`).

    python examples/train_llm_manager.py sft  --data conv26.json --out runs/llm/sft
    python examples/train_llm_manager.py grpo --data conv26.json --out runs/llm/grpo-s0 --seed 0
    python examples/train_llm_manager.py grpo --init runs/llm/sft/model --out runs/llm/sft-grpo
    python examples/train_llm_manager.py eval --data conv30.json --init runs/llm/grpo-s0/model \\
        --out runs/llm/eval-grpo-s0
    python examples/train_llm_manager.py smoke       # CI: 2 GRPO steps of the real model
    python examples/train_llm_manager.py table --out runs/llm   # the eval-* runs as a table

Training stops at `--steps` or `--minutes`, whichever comes first, checkpoints every
`--save-every` steps and resumes from the last checkpoint in `--out` when rerun. Each stage
prints progress lines and writes `curves.csv` and `curves.png`; the last line is JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

OPS = ("ADD", "UPDATE", "DELETE", "NOOP")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("stage", choices=("sft", "grpo", "eval", "smoke", "table"))
    parser.add_argument(
        "--init",
        default="smollm2",
        help="smollm2, a saved model folder, or none (eval: rules only)",
    )
    parser.add_argument("--data", default=None, help="LoCoMo JSON (default: bundled sample)")
    parser.add_argument("--split", default="all")
    parser.add_argument("--out", default="runs/llm-manager")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=40, help="optimisation steps at most")
    parser.add_argument("--minutes", type=float, default=30.0, help="wall-clock budget")
    parser.add_argument("--save-every", type=int, default=5)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--num-generations", type=int, default=4, help="GRPO group size")
    parser.add_argument("--prompts-per-step", type=int, default=2)
    parser.add_argument("--train-layers", type=int, default=6, help="last decoder layers trained")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--max-completion", type=int, default=8, help="tokens per reply")
    parser.add_argument("--memory-capacity", type=float, default=0.25)
    parser.add_argument("--segment-length", type=int, default=16)
    parser.add_argument("--observation-k", type=int, default=3, help="memories in each prompt")
    parser.add_argument("--rows-every", type=int, default=1, help="use every n-th segment")
    parser.add_argument("--eval-every", type=int, default=3, help="evaluate every n-th segment")
    parser.add_argument(
        "--baselines", default="fill,salience,ppo,evidence", help="managers scored beside (eval)"
    )
    reader = parser.add_argument_group("a real reader as the reward (default: the ORACLE proxy)")
    reader.add_argument("--reader-url", default=None, help="OpenAI-compatible server (llama.cpp)")
    reader.add_argument("--reader-model", default=None)
    reader.add_argument("--reward-cache", default=None, help="folder of the reader's answers")
    reader.add_argument("--answer-k", type=int, default=None, help="memories the reader gets")
    reader.add_argument("--segments", default=None, help="training segments, e.g. 0 or 0,3")
    return parser.parse_args(argv)


def env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The pressure preset's segment episodes; the same for training and evaluation."""
    kwargs: dict[str, Any] = {
        "dataset": "locomo" if args.data else "sample",
        "split": args.split,
        "fact_source": "turns",
        "memory_capacity": args.memory_capacity,
        "episode": "segment",
        "segment_length": args.segment_length,
        "retriever": "bm25",
        "answerer": "oracle_support",
        "observation_k": args.observation_k,
        "reward_schedule": "episode",
    }
    if args.data:
        kwargs["data"] = args.data
    if args.answer_k is not None:
        kwargs["answer_k"] = args.answer_k
    if args.reader_url:
        reader = {"base_url": args.reader_url, "model": args.reader_model or "reader"}
        kwargs |= {"answerer": "llm", "reader": reader, "reward_cache_dir": args.reward_cache}
    return kwargs


class Curves:
    """Per-step training curves: printed as progress lines, written as CSV and PNG."""

    def __init__(self, out: Path, stage: str, steps: int, minutes: float) -> None:
        self.path, self.stage, self.steps, self.budget = out / "curves.csv", stage, steps, minutes
        self.start = time.monotonic()
        self.rows: list[dict[str, Any]] = []
        self.resumed_at, self.earlier_s = 0, 0.0  # steps and seconds of the runs before this one
        if self.path.exists():  # a resumed run keeps its earlier rows
            with self.path.open() as handle:
                self.rows = list(csv.DictReader(handle))

    def add(self, step: int, values: dict[str, Any]) -> None:
        elapsed = time.monotonic() - self.start
        rate = elapsed / max(step - self.resumed_at, 1)
        eta = min(rate * (self.steps - step), self.budget * 60 - elapsed)
        total = round(self.earlier_s + elapsed, 1)
        row = {"stage": self.stage, "step": step, "elapsed_s": total, **values}
        self.rows = sorted(
            [r for r in self.rows if int(r["step"]) != step] + [row], key=lambda r: int(r["step"])
        )
        shown = " ".join(f"{k} {v}" for k, v in values.items() if v != "")
        print(f"[{self.stage}] step {step}/{self.steps} {shown} eta {max(eta, 0):.0f}s", flush=True)
        self._write()

    def drop_after(self, step: int) -> None:
        """Forget the rows after `step`, where this run resumes: it logs them again, its clock
        continues from the last kept row and its ETA counts only its own steps."""
        self.rows = [r for r in self.rows if int(r["step"]) <= step]
        self.resumed_at = step
        self.earlier_s = float(self.rows[-1]["elapsed_s"]) if self.rows else 0.0

    def _write(self) -> None:
        fields = sorted({k for r in self.rows for k in r}, key=lambda k: (k != "stage", k))
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(self.rows)
        tmp.replace(self.path)

    def plot(self) -> None:
        """curves.png: reward (or loss), valid-operation rate and the operation mix per step."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        steps = [int(r["step"]) for r in self.rows]

        def series(key: str) -> list[float]:
            return [
                float(r[key]) if r.get(key) not in (None, "") else float("nan") for r in self.rows
            ]

        figure, axes = plt.subplots(1, 3, figsize=(13, 3.4))
        first = "reward" if any(r.get("reward") not in (None, "") for r in self.rows) else "loss"
        axes[0].plot(steps, series(first))
        axes[0].set_title(first)
        axes[1].plot(steps, series("valid_rate"))
        axes[1].set_title("valid-operation rate")
        axes[1].set_ylim(-0.05, 1.05)
        for op in OPS:
            axes[2].plot(steps, series(f"op_{op}"), label=op)
        axes[2].set_title("operations (share of completions)")
        axes[2].legend(fontsize=7)
        for axis in axes:
            axis.set_xlabel("step")
        figure.suptitle(f"{self.stage}: {self.path.parent}")
        figure.tight_layout()
        figure.savefig(self.path.with_suffix(".png"), dpi=90)
        plt.close(figure)


def training_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The decisions of every `--rows-every`-th training segment, walked by `salience`."""
    from memgym.envs.memory_manager import MemoryManagerEnv
    from memgym.integrations.reward_function import state_rows

    kwargs = env_kwargs(args)
    n = MemoryManagerEnv(**kwargs).episodes
    episodes = list(range(0, n, args.rows_every))
    if args.segments:
        episodes = [int(i) for i in args.segments.split(",")]
    rows = state_rows("salience", prompt_style="compact", episodes=episodes, **kwargs)
    print(f"{len(rows)} decisions from {len(episodes)} segments", flush=True)
    return rows


def _callback(curves: Curves, reward: Any | None) -> Any:
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        """Progress lines and curves; pops the reward function's outcomes into `scored`."""

        def __init__(self) -> None:
            self.scored: list[tuple[str, bool, float]] = []

        def on_log(self, _args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            logs = logs or {}
            if "train_runtime" in logs:
                return
            values: dict[str, Any] = {}
            if "reward" in logs:
                values["reward"] = round(float(logs["reward"]), 4)
            if "loss" in logs:
                values["loss"] = round(float(logs["loss"]), 4)
            if reward is not None and getattr(reward, "seconds", None) is not None:
                values["reward_s"] = round(reward.seconds, 1)
                reward.seconds = 0.0
                if "step_time" in logs:
                    values["reward_share"] = round(values["reward_s"] / float(logs["step_time"]), 3)
                stats = reward.env.reader.answerer.stats
                values["reader_hit_rate"] = round(stats.hit_rate, 3)
            new = []
            while reward is not None and reward.outcomes:
                new.append(reward.outcomes.popleft())
            self.scored.extend(new)
            if new:
                ops = Counter(op for op, _, _ in new)
                values["valid_rate"] = round(sum(v for _, v, _ in new) / len(new), 3)
                values["env_reward"] = round(sum(s for _, _, s in new) / len(new), 4)
                values.update({f"op_{op}": round(ops[op] / len(new), 3) for op in OPS})
            curves.add(state.global_step, values)

        def on_step_end(self, _args: Any, state: Any, control: Any, **_: Any) -> None:
            if time.monotonic() - curves.start > curves.budget * 60:
                control.should_training_stop = True
                control.should_save = True

    return Progress()


def timed_reward(*args: Any, **kwargs: Any) -> Any:
    """MemoryReward that also adds up the seconds it spends (the reader's, with a real one)."""
    from memgym.integrations.reward_function import MemoryReward

    class Timed(MemoryReward):
        seconds = 0.0

        def __call__(self, *call_args: Any, **call_kwargs: Any) -> list[float]:
            start = time.monotonic()
            try:
                return super().__call__(*call_args, **call_kwargs)
            finally:
                self.seconds += time.monotonic() - start

    return Timed(*args, **kwargs)


def _last_checkpoint(folder: Path) -> str | None:
    checkpoints = sorted(folder.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    return str(checkpoints[-1]) if checkpoints else None


def _common(args: argparse.Namespace, out: Path, lr: float) -> dict[str, Any]:
    return {
        "output_dir": str(out / "trainer"),
        "use_cpu": True,
        "bf16": False,
        "report_to": "none",
        "max_steps": args.steps,
        "learning_rate": lr,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": args.save_every,
        "save_total_limit": 1,
        "seed": args.seed,
        "dataloader_pin_memory": False,
    }


def train(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """One SFT or GRPO stage; saves the model in `out/model`."""
    import torch
    from datasets import Dataset

    from memgym.integrations.small_model import describe_start, load_model

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    record = describe_start(args.init)
    model, tokenizer = load_model(args.init, args.train_layers)
    rows = training_rows(args)
    curves = Curves(out, args.stage, args.steps, args.minutes)
    reward = None
    if args.stage == "sft":
        from trl import SFTConfig, SFTTrainer

        data = Dataset.from_list(
            [
                {
                    "prompt": r["prompt"],
                    "completion": [{"role": "assistant", "content": r["reference"]}],
                }
                for r in rows
            ]
        )
        config = SFTConfig(
            per_device_train_batch_size=4, **_common(args, out, args.learning_rate or 5e-5)
        )
        trainer: Any = SFTTrainer(
            model=model, args=config, train_dataset=data, processing_class=tokenizer
        )
    else:
        from trl import GRPOConfig, GRPOTrainer

        reward = timed_reward("salience", prompt_style="compact", **env_kwargs(args))
        config = GRPOConfig(
            per_device_train_batch_size=args.prompts_per_step * args.num_generations,
            num_generations=args.num_generations,
            max_completion_length=args.max_completion,
            temperature=args.temperature,
            beta=0.0,
            **_common(args, out, args.learning_rate or 1e-5),
        )
        data = Dataset.from_list([{"prompt": r["prompt"], "state": r["state"]} for r in rows])
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=[reward],
            args=config,
            train_dataset=data,
            processing_class=tokenizer,
        )
    progress = _callback(curves, reward)
    trainer.add_callback(progress)
    checkpoint = _last_checkpoint(out / "trainer")
    if checkpoint is not None:  # steps logged after the checkpoint are run again
        curves.drop_after(int(checkpoint.rsplit("-", 1)[1]))
    trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model(str(out / "model"))
    tokenizer.save_pretrained(str(out / "model"))
    curves.plot()
    logged = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    return {
        "stage": args.stage,
        "start": record.as_dict(),
        "global_step": trainer.state.global_step,
        "rewards": logged,
        "env_rewards": [s for _, _, s in progress.scored],
        "reader_cache": reward.env.reader.answerer.stats.as_dict() if reward else None,
        "train_layers": args.train_layers,
        "settings": {k: v for k, v in vars(args).items() if k != "stage"},
        "env": env_kwargs(args),
        "dataset": reward.env.describe()["dataset"] if reward else None,
        "curves": str(out / "curves.csv"),
    }


def _play(args: argparse.Namespace, env: Any, episodes: list[int]) -> dict[str, Any]:
    """The model plays `episodes` alone, greedily, through the compact text env."""
    import torch

    from memgym.integrations.small_model import load_model

    model, tokenizer = load_model(args.init)
    model.eval()
    ops: Counter[str] = Counter()
    valid = decisions = 0
    scores: list[float] = []
    start = time.monotonic()
    for n, index in enumerate(episodes, 1):
        observation, _ = env.reset(seed=index, options={"episode_index": index})
        done, info = False, dict[str, Any]()
        while not done:
            prompt = tokenizer.apply_chat_template(
                list(observation["messages"]),
                add_generation_prompt=True,
                return_tensors="pt",
                return_dict=True,
            )
            with torch.no_grad():
                output = model.generate(
                    **prompt, max_new_tokens=args.max_completion, do_sample=False
                )
            reply = tokenizer.decode(
                output[0, prompt["input_ids"].shape[1] :], skip_special_tokens=True
            )
            observation, _, done, _, info = env.step(reply)
            decisions += 1
            valid += info["invalid_action"] is None
            ops[info["parse"]["op"]] += 1
        scores.append(float(info["episode_score"]))
        eta = (time.monotonic() - start) / n * (len(episodes) - n)
        print(
            f"[eval] segment {n}/{len(episodes)} score {scores[-1]:.3f} eta {eta:.0f}s", flush=True
        )
    return {
        "score": sum(scores) / len(scores),
        "valid_rate": valid / decisions,
        "ops": {op: ops[op] / decisions for op in OPS},
        "segment_scores": scores,
    }


def evaluate(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """The model (greedy) plays every `--eval-every`-th segment alone; baselines play the same
    segments. Score: mean episode score (questions supported, no penalties)."""
    import gymnasium as gym

    import memgym  # noqa: F401  (registers the envs)
    from memgym.agents.registry import make_manager
    from memgym.integrations.reward_function import manager_decision
    from memgym.integrations.small_model import describe_start
    from memgym.wrappers.features import memory_manager_env

    env = gym.make("MemoryManagerEnv-text-v0", prompt_style="compact", **env_kwargs(args))
    base = memory_manager_env(env)
    episodes = list(range(0, base.episodes, args.eval_every))
    results: dict[str, Any] = {}
    record = None if args.init == "none" else describe_start(args.init)
    if record is not None:
        results["model"] = _play(args, env, episodes)
    for name in [b for b in args.baselines.split(",") if b]:
        per: list[float] = []
        for index in episodes:
            conversation = base.plan.episodes[index].conversation
            golds = {t for q in conversation.questions for t in q.evidence_turn_ids}
            manager = make_manager(name, evidence_turn_ids=golds if name == "evidence" else None)
            base.reset(seed=index, options={"episode_index": index})
            done = False
            while not done:
                _, _, done, _, info = base.step(manager_decision(base, manager))
            per.append(float(info["episode_score"]))
        results[name] = {"score": sum(per) / len(per), "segment_scores": per}
        if name in ("evidence",):
            results[name]["oracle"] = True
    return {
        "stage": "eval",
        "start": record.as_dict() if record else None,
        "episodes": episodes,
        "env": env_kwargs(args),
        "dataset": base.describe()["dataset"],
        "results": results,
    }


def smoke(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """CI: one SFT step, then two GRPO steps from it, of the real model on the bundled sample;
    returns what the test checks (the GRPO steps' weight change and the rewards logged)."""
    import torch
    from transformers import AutoModelForCausalLM

    small = {"data": None, "minutes": 10.0, "save_every": 1000, "prompts_per_step": 1}
    small |= {"num_generations": 4, "train_layers": 1, "segment_length": 4, "rows_every": 1000}
    small |= {"learning_rate": args.learning_rate or 1e-3}
    sft = argparse.Namespace(**{**vars(args), **small, "stage": "sft", "steps": 1})
    train(sft, out / "sft")
    start = str(out / "sft" / "model")
    grpo = argparse.Namespace(**{**vars(args), **small, "stage": "grpo", "steps": 2, "init": start})
    summary = train(grpo, out / "grpo")

    def last_layer(folder: str) -> Any:
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
        return model.model.layers[-1].mlp.down_proj.weight.detach()

    changed = float((last_layer(str(out / "grpo" / "model")) - last_layer(start)).abs().max())
    return {**summary, "stage": "smoke", "max_weight_change": changed}


def table(out: Path) -> dict[str, Any]:
    """Every `eval-*` run under `out` (and the baselines of the first that has them) as one
    markdown table: score and valid-operation rate on the same segments."""
    rows: dict[str, dict[str, Any]] = {}
    for summary_path in sorted(out.glob("eval-*/summary.json")):
        summary = json.loads(summary_path.read_text())
        results = summary["results"]
        if "model" in results:
            rows[summary_path.parent.name.removeprefix("eval-")] = results["model"]
        for name, result in results.items():
            if name != "model":
                rows.setdefault(name + (" (ORACLE)" if result.get("oracle") else ""), result)
    lines = [
        "| manager | score | valid operations | ADD / UPDATE / DELETE / NOOP |",
        "|---|---|---|---|",
    ]
    for name, result in rows.items():
        valid = f"{result['valid_rate']:.1%}" if "valid_rate" in result else "-"
        ops = result.get("ops")
        mix = " / ".join(f"{ops[op]:.0%}" for op in OPS) if ops else ""
        lines.append(f"| {name} | {result['score']:.3f} | {valid} | {mix} |")
    print("\n".join(lines), flush=True)
    return {"stage": "table", "rows": rows}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    out = Path(args.out)
    if args.stage == "table":
        return table(out)
    out.mkdir(parents=True, exist_ok=True)
    if args.stage == "eval":
        summary = evaluate(args, out)
    elif args.stage == "smoke":
        summary = smoke(args, out)
    else:
        summary = train(args, out)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary), flush=True)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
