"""The offline heuristic manager driving MemoryManagerEnv, and the resulting bank.

python examples/heuristic_agent.py [--data locomo10.json --split train]
"""

from __future__ import annotations

import argparse

from memgym.agents import HeuristicManager
from memgym.envs import MemoryManagerEnv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=None)
    parser.add_argument("--split", default="all")
    parser.add_argument("--retriever", default="hybrid")
    args = parser.parse_args()
    env = MemoryManagerEnv(
        "locomo" if args.data else "sample",
        args.data,
        args.split,
        retriever=args.retriever,
        render_mode="ansi",
    )
    manager = HeuristicManager()
    for conversation in env.dataset.conversations:
        env.reset(options={"conversation_id": conversation.id})
        done, info = False, {}
        while not done:
            fact = env.current_fact
            assert fact is not None
            decision = manager.decide(fact, env.visible_memories)
            _, _, done, _, info = env.step(decision)
        print(env.render())
        print(
            f"{conversation.id}: ORACLE support score {info['episode_score']:.3f} (the reward "
            f"proxy), operations {info['op_counts']}\n"
        )


if __name__ == "__main__":
    main()
