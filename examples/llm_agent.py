"""An LLM memory manager on MemoryManagerEnv through an OpenAI-compatible endpoint.

Works with vLLM, SGLang, Ollama or llama.cpp server, e.g. `vllm serve Qwen/Qwen2.5-7B-Instruct`:

    python examples/llm_agent.py --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen2.5-7B-Instruct

The key, if the endpoint needs one, is read from the variable named by --api-key-env.
Responses are cached in --cache so a rerun costs nothing.
"""

from __future__ import annotations

import argparse

from memgym.agents import LLMManager, OpenAICompatibleClient
from memgym.envs import MemoryManagerEnv


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--api-key-env", default="OPENAI_API_KEY")
    parser.add_argument("--cache", default="runs/llm_agent_cache.sqlite")
    parser.add_argument("--data", default=None)
    parser.add_argument("--split", default="all")
    args = parser.parse_args()
    client = OpenAICompatibleClient(
        args.base_url, args.model, api_key_env=args.api_key_env, cache=args.cache
    )
    manager = LLMManager(client)
    env = MemoryManagerEnv("locomo" if args.data else "sample", args.data, args.split)
    for conversation in env.dataset.conversations:
        env.reset(options={"conversation_id": conversation.id})
        done, info, failures = False, {}, 0
        while not done:
            fact = env.current_fact
            assert fact is not None
            decision = manager.decide(fact, env.visible_memories)
            failures += decision.error is not None
            _, _, done, _, info = env.step(decision)
        print(
            f"{conversation.id}: score {info['episode_score']:.3f}, ops {info['op_counts']}, "
            f"unusable outputs {failures}"
        )
    print(
        f"client: {client.stats.calls} calls, {client.stats.cache_hits} cached, "
        f"{len(client.stats.failures)} failed"
    )


if __name__ == "__main__":
    main()
