"""A deliberately slow manager, so that tests can interrupt an evaluation midway."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from memgym.agents import HeuristicManager, ManagerDecision, RetrievedMemory
from memgym.data import Fact


class SlowManager(HeuristicManager):
    """0.15 s a decision; in any conversation after the first it sees, the seconds in the
    environment variable SLOW_LATER_S if set. A test that signals once the first conversation
    is saved sets it so that the signal lands mid-run even on a loaded machine, where its
    polling may sleep through a short second conversation."""

    name = "slow-heuristic"
    first_conversation: str | None = None

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision:
        conversation = fact.id.split("/", 1)[0]
        if SlowManager.first_conversation is None:
            SlowManager.first_conversation = conversation
        later = float(os.environ.get("SLOW_LATER_S", "0.15"))
        time.sleep(0.15 if conversation == SlowManager.first_conversation else later)
        return super().decide(fact, memories)
