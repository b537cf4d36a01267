"""The bank an episode starts from: empty, or (training tuples) the reference manager's bank of
the tuple's prefix, built once per episode and restored from an exact snapshot after."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from memgym.agents.base import MemoryManager
from memgym.config import MemoryConfig
from memgym.data.schema import Fact
from memgym.engine import ConversationMemory, embedding_cache_for
from memgym.envs.episodes import Episode
from memgym.memory.bank import BankSnapshot
from memgym.memory.capacity import BankCapacity
from memgym.retrieval.base import Retriever
from memgym.retrieval.embedding_cache import EmbeddingCache


class EpisodeBanks:
    """Makes each episode's ConversationMemory; keeps the reference banks it has built."""

    def __init__(
        self,
        config: MemoryConfig,
        reference_manager: MemoryManager,
        retriever_factory: Callable[[], Retriever] | None = None,
        embedding_cache_dir: str | Path | None = None,
        streams: dict[str, tuple[Fact, ...]] | None = None,
    ) -> None:
        """`streams` are each conversation's facts (a capacity share is taken of them)."""
        self.config = config
        self.streams = streams or {}
        self.reference_manager = reference_manager
        self.retriever_factory = retriever_factory
        self.embedding_cache_dir = embedding_cache_dir
        self._cache: EmbeddingCache | None = None
        self._snapshots: dict[int, BankSnapshot] = {}
        self._capacities: dict[str, BankCapacity] = {}

    def empty(self, episode: Episode) -> ConversationMemory:
        """An empty bank for the episode's conversation (its capacity resolved once)."""
        conversation = episode.conversation
        facts = self.streams.get(conversation.id, episode.facts)
        capacity = self._capacities.get(conversation.id)
        if self.retriever_factory is not None:
            memory = ConversationMemory(
                conversation, self.config, None, self.retriever_factory, facts, capacity
            )
        else:
            if self._cache is None:
                self._cache = embedding_cache_for(self.config, self.embedding_cache_dir)
            memory = ConversationMemory(
                conversation, self.config, self._cache, facts=facts, capacity=capacity
            )
        if memory.capacity is not None:
            self._capacities[conversation.id] = memory.capacity
        return memory

    def start(self, index: int, episode: Episode) -> ConversationMemory:
        """The bank episode `index` starts from (texts embedded in one batch ahead of use)."""
        memory = self.empty(episode)
        memory.prefetch(
            [f.text for f in (*episode.prefix, *episode.facts)]
            + [q.text for q in episode.questions]
        )
        if episode.prefix:
            snapshot = self._snapshots.get(index)
            if snapshot is None:
                # A segment's reference manager paces itself over the whole conversation.
                memory.run_manager(
                    episode.prefix, self.reference_manager, n_facts=episode.stream_length or None
                )
                self._snapshots[index] = memory.bank.snapshot()
            else:
                memory.bank.restore(snapshot)
        if memory.cache is not None:
            memory.cache.save()
        return memory

    def __getstate__(self) -> dict[str, Any]:
        # Worker processes rebuild indexes and reload models lazily.
        return {**self.__dict__, "_cache": None, "_snapshots": {}}
