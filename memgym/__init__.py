"""memgym: long-term conversational-memory benchmarks as Gymnasium RL environments.

`import memgym` registers the environments; it is cheap (no torch, no data loaded): heavy
resources are created on first use.
"""

from __future__ import annotations

from memgym.registration import register_envs

__version__ = "0.1.0"

register_envs()

__all__ = ["__version__", "register_envs"]
