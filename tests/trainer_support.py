"""Shared by the trainer tests: a scripted policy that depends only on the user turn (so a fake
model and a direct loop take the same actions), the direct reference rollout, generation steering for the tiny
chat model of `memgym.integrations.tiny_model`, and tool-call text."""

from __future__ import annotations

import json
import re
from typing import Any

from memgym.wrappers.variants import memory_manager_text

ENV_KWARGS: dict[str, Any] = {"retriever": "bm25", "episode": "conversation", "split": "all"}
_FACT = re.compile(r"<new_fact[^>]*>\s*(.*?)\s*</new_fact>", re.S)


def scripted_completion(user_turn: str) -> str:
    """ADD the new fact; a reply that cannot be read for every fact whose length % 4 == 3."""
    match = _FACT.search(user_turn)
    if match is None:
        return "NONE"
    fact = match.group(1).strip()
    return "I am not sure." if len(fact) % 4 == 3 else f"ADD: {fact}"


def scripted_model(body: dict[str, Any]) -> str:
    """The fake server's reply: the scripted policy on the last user message."""
    users = [m for m in body["messages"] if m.get("role") == "user"]
    content = users[-1]["content"] if users else ""
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return scripted_completion(str(content))


def reference_rollout(seed: int, **env_kwargs: Any) -> list[float]:
    """Step rewards of one episode of MemoryManagerEnv-text-v0 under the scripted policy."""
    env = memory_manager_text(**{**ENV_KWARGS, **env_kwargs})
    observation, _ = env.reset(seed=seed)
    rewards, done = [], False
    while not done:
        action = scripted_completion(observation["messages"][-1]["content"])
        observation, reward, terminated, truncated, _ = env.step(action)
        rewards.append(float(reward))
        done = terminated or truncated
    return rewards


def forcing_bias(tokenizer: Any, replies: list[str], bias: float = 50.0) -> list[Any]:
    """`sequence_bias` entries that make the tiny model spell one of `replies` after the
    assistant header (about evenly), then "Done." after a tool response: generation is
    steered, the model's log-probabilities (what GRPO trains) are its own."""

    def ids(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    anchor = ids("<|im_start|>assistant\n")
    after_tool = ids("</tool_response><|im_end|>\n<|im_start|>assistant\n")
    entries: dict[tuple[int, ...], float] = {}
    for reply in replies:
        tokens = ids(reply)
        for k in range(len(tokens)):
            entries[tuple(anchor + tokens[: k + 1])] = bias
    done = ids("Done.<|im_end|>")
    for k in range(len(done)):
        entries[tuple(after_tool + done[: k + 1])] = 2 * bias
    return [[list(key), value] for key, value in entries.items()]


def tool_call(name: str, arguments: dict[str, Any]) -> str:
    return (
        f'<tool_call>\n{{"name": "{name}", "arguments": {json.dumps(arguments)}}}\n'
        "</tool_call><|im_end|>"
    )
