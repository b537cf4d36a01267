"""Adapters for RL trainers. Each imports its trainer lazily (optional extras):

- `memgym.integrations.trl`: a GRPOTrainer `environment_factory` class whose public methods are
  the memory tools, and the dataset of episode rows it is reset from;
- `memgym.integrations.reward_function`: rows carrying serialised env states and a reward
  function that restores a state, applies a completion and returns the downstream score
  ("dataset + reward function" trainers: verl, OpenRLHF, TRL without environments);
- `memgym.integrations.verifiers`: the taskset, harness and env that verifiers loads as
  `memgym-verifiers` (module `memgym_verifiers`);
- `memgym.integrations.verl`: verl's rows, custom reward function and multi-turn memory tools;
- `memgym.integrations.openenv`, `.skyrl`, `.gem`: the env served or registered the way each of
  those libraries expects;
- `memgym.integrations.groups`: G envs at one start state, for GRPO groups;
- `memgym.integrations.ray_rollouts`: Ray actors stepping vector envs.
"""
