"""The verifiers taskset package of memgym: `--env.taskset.id memgym-verifiers`.

verifiers imports a taskset by a top-level module name; the implementation lives in
`memgym.integrations.verifiers`.
"""

from memgym.integrations.verifiers import MemoryEnv, MemoryHarness, MemoryTaskset

__all__ = ["MemoryEnv", "MemoryHarness", "MemoryTaskset"]
