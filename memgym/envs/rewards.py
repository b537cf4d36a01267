"""How MemoryManagerEnv pays: a frozen answer agent's score on the episode's questions.

Let S(q) be the metric of the answer agent's answer to q from the current bank (the reader gets
what `ConversationMemory.answer_context` gives it), N the episode's question count, and
Phi_t = (1/N) * sum of S(q) over the questions arrived by step t. Schedules:

- `episode`: 0 until the last step, then Phi_T;
- `step`: Phi_t - Phi_{t-1} (potential-based; sums to Phi_T);
- `session`: Phi_t - Phi at the previous session boundary, paid at boundaries (sums to Phi_T);
- `counterfactual`: per-operation credit, (1/N) * sum over the questions arrived by step t of
  S(q | the chosen operation) - S(q | NOOP at this step). It does not sum to Phi_T: it says
  what this operation changed, and `info` carries the step reward beside it.

Every question that needs scoring at a step goes to the reader in one batch call, through a
cache shared by every env of the process (and optionally on disk), so forks, GRPO group
members and repeated prefixes never ask the reader twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from memgym.agents.answer_cache import CachingAnswerer
from memgym.agents.base import AskedQuestion, RetrievedMemory
from memgym.data.schema import Question
from memgym.engine import ConversationMemory
from memgym.envs.episodes import Episode
from memgym.metrics.protocols import QuestionMetric

Schedule = Literal["episode", "session", "step", "counterfactual"]
SCHEDULES: tuple[str, ...] = ("episode", "session", "step", "counterfactual")


@dataclass(frozen=True)
class Scored:
    """One question's answer from one context, and its score."""

    answer: str
    score: float


class QuestionScorer:
    """Scores questions on banks through a caching reader and a metric."""

    def __init__(self, answerer: CachingAnswerer, metric: QuestionMetric) -> None:
        self.answerer = answerer
        self.metric = metric
        self.calls = 0  # reader batch calls that went past the cache

    def contexts(
        self, memory: ConversationMemory, questions: Sequence[Question]
    ) -> list[list[RetrievedMemory]]:
        return [memory.answer_context(q) for q in questions]

    def score(self, requests: Sequence[tuple[Question, Sequence[RetrievedMemory]]]) -> list[Scored]:
        """Every (question, context) in one reader batch."""
        if not requests:
            return []
        misses = self.answerer.stats.misses
        answers = self.answerer.answer_batch([(AskedQuestion.of(q), c) for q, c in requests])
        self.calls += self.answerer.stats.misses > misses
        return [
            Scored(a.text, float(self.metric(a.text, q)))
            for a, (q, _) in zip(answers, requests, strict=True)
        ]


def arrived(questions: Sequence[Question], arrival: Sequence[int], step: int) -> list[Question]:
    """The questions whose evidence has arrived by `step`."""
    return [q for q, a in zip(questions, arrival, strict=True) if a <= step]


class RewardTracker:
    """The potential of one episode and what each step pays under `schedule`."""

    def __init__(self, scorer: QuestionScorer, schedule: Schedule) -> None:
        if schedule not in SCHEDULES:
            raise ValueError(f"unknown reward_schedule {schedule!r}; expected one of {SCHEDULES}")
        self.scorer = scorer
        self.schedule = schedule
        self.potential = 0.0
        self.boundary_potential = 0.0

    def reset(self, potential: float = 0.0, boundary_potential: float = 0.0) -> None:
        self.potential, self.boundary_potential = potential, boundary_potential

    def before_step(
        self, memory: ConversationMemory, episode: Episode, step: int
    ) -> list[list[RetrievedMemory]]:
        """What the arrived questions' contexts are if the step is a NOOP (counterfactual only)."""
        if self.schedule != "counterfactual":
            return []
        return self.scorer.contexts(memory, arrived(episode.questions, episode.arrival, step))

    def pay(
        self,
        memory: ConversationMemory,
        episode: Episode,
        step: int,
        noop_contexts: list[list[RetrievedMemory]],
    ) -> dict[str, float]:
        """The rewards of `step` (already applied to `memory`): the schedule's, and the step
        reward beside the counterfactual one. One reader batch."""
        terminated = step + 1 >= len(episode.facts)
        boundary = (
            terminated or episode.facts[step + 1].session_id != episode.facts[step].session_id
        )
        if self.schedule == "episode" and not terminated:
            return {"episode": 0.0}
        if self.schedule == "session" and not boundary:
            return {"session": 0.0}
        now = arrived(episode.questions, episode.arrival, step)
        requests = list(zip(now, self.scorer.contexts(memory, now), strict=True))
        if self.schedule == "counterfactual":
            requests += list(zip(now, noop_contexts, strict=True))
        scored = self.scorer.score(requests)
        n = len(episode.questions) or 1
        after = sum(s.score for s in scored[: len(now)])
        previous, self.potential = self.potential, after / n
        out = {"step": self.potential - previous}
        if self.schedule == "counterfactual":
            out["counterfactual"] = (after - sum(s.score for s in scored[len(now) :])) / n
        elif self.schedule == "episode":
            out["episode"] = self.potential
        elif self.schedule == "session":
            out["session"] = self.potential - self.boundary_potential
            self.boundary_potential = self.potential
        return out

    def final(self, memory: ConversationMemory, episode: Episode) -> dict[str, Any]:
        """Every question's answer and score on the final bank, and their mean."""
        questions = episode.questions
        scored = self.scorer.score(
            list(zip(questions, self.scorer.contexts(memory, questions), strict=True))
        )
        return {
            "episode_score": sum(s.score for s in scored) / len(scored) if scored else 0.0,
            "questions": [
                {"id": q.id, "category": q.category, "answer": s.answer, "score": s.score}
                for q, s in zip(questions, scored, strict=True)
            ],
        }
