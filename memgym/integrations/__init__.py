"""Adapters for RL trainers. Each imports its trainer lazily (optional extras):

- `memgym.integrations.trl`: a GRPOTrainer `environment_factory` class whose public methods are
  the memory tools, and the dataset of episode rows it is reset from;
- `memgym.integrations.reward_function`: rows carrying serialised env states and a reward
  function that restores a state, applies a completion and returns the downstream score
  ("dataset + reward function" trainers: verl, OpenRLHF, TRL without environments);
- `memgym.integrations.verifiers`: the env behind a verifiers-style `load_environment`.
"""
