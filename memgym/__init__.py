"""memgym: long-term conversational-memory benchmarks as Gymnasium RL environments.

Importing the package is cheap (no torch); heavy resources load on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
