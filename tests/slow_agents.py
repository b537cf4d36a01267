"""A deliberately slow manager, so that tests can interrupt an evaluation midway."""

from __future__ import annotations

import time
from collections.abc import Sequence

from memgym.agents import HeuristicManager, ManagerDecision, RetrievedMemory
from memgym.data import Fact


class SlowManager(HeuristicManager):
    name = "slow-heuristic"

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision:
        time.sleep(0.15)  # room for the signal after a conversation is saved, under load
        return super().decide(fact, memories)
