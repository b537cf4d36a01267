"""A random policy on MemoryManagerEnv: the smallest loop that drives the env.

python examples/random_agent.py [--episodes 3] [--retriever bm25]
"""

from __future__ import annotations

import argparse

import gymnasium as gym

import memgym  # noqa: F401  (registers the env ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--retriever", default="bm25")
    args = parser.parse_args()
    env = gym.make("MemoryManagerEnv-v0", retriever=args.retriever, reward_schedule="step")
    env.action_space.seed(0)
    for episode in range(args.episodes):
        _, info = env.reset(seed=episode)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, step_info = env.step(env.action_space.sample())
            total += float(reward)
            done = terminated or truncated
        print(
            f"episode {episode} ({info['conversation_id']}): return {total:.3f}, "
            f"score {step_info['episode_score']:.3f}, invalid actions {step_info['invalid_actions']}"
        )


if __name__ == "__main__":
    main()
