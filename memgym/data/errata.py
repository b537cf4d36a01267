"""Errata for LoCoMo's gold answers, in the schema of the public audit dial481/locomo-audit.

One object per flagged question: `question_id` is `locomo_<i>_qa<j>`, `i` the conversation's
position in the official locomo10.json and `j` the 0-based index into its raw `qa` list
(adversarial questions included); `question`, `golden_answer`, `category`, `error_type`,
`correct_answer` and `correct_evidence` say what is wrong and what is right. memgym ships no
errata (the audit is CC BY-NC, like LoCoMo): the user gives the file.

Errata change the data, not the scorer: `apply_errata` returns a Dataset whose questions are
excluded or corrected, and whose content hash names the errata and mode, so every cache and
run fingerprint downstream tells the corrected data from the original.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from memgym.data.categories import LOCOMO_CATEGORY_NAMES
from memgym.data.loading import content_hash
from memgym.data.locomo import parse_dia_ids
from memgym.data.problems import preview
from memgym.data.schema import AppliedErrata, Conversation, Dataset, ErrataChange, Question
from memgym.errors import DatasetError, Problem

ErrataMode = Literal["exclude", "correct"]
ERRATA_MODES: tuple[str, ...] = ("exclude", "correct")
# The official locomo10.json order: `i` of `locomo_<i>_qa<j>` indexes this.
LOCOMO10_ORDER: tuple[str, ...] = (
    "conv-26",
    "conv-30",
    "conv-41",
    "conv-42",
    "conv-43",
    "conv-44",
    "conv-47",
    "conv-48",
    "conv-49",
    "conv-50",
)
CITATION_ONLY = "WRONG_CITATION"
ERROR_TYPES: frozenset[str] = frozenset(
    {
        CITATION_ONLY,
        "HALLUCINATION",
        "TEMPORAL_ERROR",
        "ATTRIBUTION_ERROR",
        "AMBIGUOUS",
        "INCOMPLETE",
    }
)
_AUDIT_ID = re.compile(r"^locomo_(\d+)_qa(\d+)$")
_ANSWER_TYPES = (str, int, float)


@dataclass(frozen=True)
class ErrataEntry:
    """One flagged question, with where it was read from (`file`, `record`) for messages."""

    file: str
    record: str
    audit_id: str
    conversation_id: str
    qa_index: int
    question: str
    golden_answer: str
    category: int
    error_type: str
    correct_answer: str
    correct_evidence: tuple[str, ...]

    @property
    def question_id(self) -> str:
        """memgym's id of the question (`conv-26/q5`)."""
        return f"{self.conversation_id}/q{self.qa_index}"

    @property
    def score_corrupting(self) -> bool:
        """Every error type but a wrong citation makes the gold answer itself wrong."""
        return self.error_type != CITATION_ONLY

    def problem(self, field: str | None, message: str) -> Problem:
        return Problem(self.file, self.record, field, message)


@dataclass(frozen=True)
class Errata:
    """A checked errata file (or folder of files) and the mode to apply it in."""

    source: str
    sha256: str
    mode: ErrataMode
    entries: tuple[ErrataEntry, ...]


def load_errata(path: str | Path, mode: str = "exclude") -> Errata:
    """Read and check errata from a JSON file, or from every *.json file of a folder (the
    audit's per-conversation files); DatasetError names the file, entry and field of every
    problem (an unknown id, a wrong type, a missing field, a duplicate)."""
    if mode not in ERRATA_MODES:
        raise ValueError(f"unknown errata mode {mode!r}; expected one of {', '.join(ERRATA_MODES)}")
    source = Path(path)
    if source.is_dir():
        files = sorted(p for p in source.glob("*.json") if p.is_file())
        if not files:
            raise DatasetError([Problem(str(source), None, None, "folder holds no *.json errata")])
    elif source.is_file():
        files = [source]
    else:
        raise DatasetError([Problem(str(source), None, None, "no such errata file or folder")])
    problems: list[Problem] = []
    entries: list[ErrataEntry] = []
    seen: dict[str, str] = {}
    for file in files:
        for entry in _read_file(file, problems):
            where = f"{entry.file} {entry.record}"
            if entry.audit_id in seen:
                problems.append(
                    entry.problem("question_id", f"duplicate of {seen[entry.audit_id]}")
                )
                continue
            seen[entry.audit_id] = where
            entries.append(entry)
    if problems:
        raise DatasetError(problems)
    chosen: ErrataMode = "exclude" if mode == "exclude" else "correct"
    return Errata(str(source), content_hash(source), chosen, tuple(entries))


def _read_file(file: Path, problems: list[Problem]) -> list[ErrataEntry]:
    try:
        raw = json.loads(file.read_bytes())
    except (ValueError, RecursionError) as exc:
        problems.append(Problem(str(file), None, None, f"invalid JSON: {preview(str(exc))}"))
        return []
    except OSError as exc:
        problems.append(Problem(str(file), None, None, f"cannot read: {exc.strerror or exc}"))
        return []
    if not isinstance(raw, list):
        problems.append(
            Problem(
                str(file),
                None,
                None,
                f"expected a list of errata objects (the audit's schema), got {type(raw).__name__}",
            )
        )
        return []
    entries = []
    for index, item in enumerate(raw):
        entry = _parse_entry(str(file), index, item, problems)
        if entry is not None:
            entries.append(entry)
    return entries


def _parse_entry(file: str, index: int, item: Any, problems: list[Problem]) -> ErrataEntry | None:
    record = f"entry {index}"
    if not isinstance(item, dict):
        problems.append(Problem(file, record, None, f"expected an object, got {preview(item)}"))
        return None
    audit_id = item.get("question_id")
    if isinstance(audit_id, str):
        record = f"entry {index} ({preview(audit_id)[1:-1]})"
    before = len(problems)

    def fail(field: str, message: str) -> None:
        problems.append(Problem(file, record, field, message))

    def required(field: str, types: tuple[type, ...], what: str) -> Any:
        if field not in item:
            fail(field, "missing required field")
            return None
        value = item[field]
        if isinstance(value, bool) or not isinstance(value, types):
            fail(field, f"expected {what}, got {preview(value)}")
            return None
        return value

    conversation_id, qa_index = "", 0
    if isinstance(required("question_id", (str,), "a string"), str):
        match = _AUDIT_ID.match(str(audit_id))
        if match is None:
            fail("question_id", f"unknown id {preview(audit_id)}: expected locomo_<i>_qa<j>")
        elif int(match.group(1)) >= len(LOCOMO10_ORDER):
            fail(
                "question_id",
                f"unknown id {audit_id}: locomo10.json has conversations 0-"
                f"{len(LOCOMO10_ORDER) - 1}",
            )
        else:
            conversation_id = LOCOMO10_ORDER[int(match.group(1))]
            qa_index = int(match.group(2))
    question = required("question", (str,), "a string")
    golden = required("golden_answer", _ANSWER_TYPES, "a string")
    category = required("category", (int,), "an integer 1-5")
    if category is not None and category not in LOCOMO_CATEGORY_NAMES:
        fail("category", f"unknown category {category} (expected 1-5)")
    error_type = required("error_type", (str,), "a string")
    if error_type is not None and error_type not in ERROR_TYPES:
        fail(
            "error_type",
            f"unknown error type {preview(error_type)}; expected one of "
            f"{', '.join(sorted(ERROR_TYPES))}",
        )
    correct = required("correct_answer", _ANSWER_TYPES, "a string")
    evidence = required("correct_evidence", (list,), "a list of dialogue ids")
    if evidence is not None and not all(isinstance(e, str) for e in evidence):
        fail("correct_evidence", f"expected a list of dialogue ids, got {preview(evidence)}")
    if len(problems) > before:
        return None
    return ErrataEntry(
        file=file,
        record=record,
        audit_id=str(audit_id),
        conversation_id=conversation_id,
        qa_index=qa_index,
        question=question,
        golden_answer=str(golden),
        category=category,
        error_type=error_type,
        correct_answer=str(correct),
        correct_evidence=tuple(evidence),
    )


def apply_errata(dataset: Dataset, errata: Errata) -> Dataset:
    """`dataset` with the errata applied in their mode: `exclude` drops every question whose
    gold is wrong (every error type but WRONG_CITATION); `correct` replaces the gold answer with
    `correct_answer` and the evidence with `correct_evidence` for every flagged question.

    Entries for conversations the dataset does not hold (another split, a per-conversation
    file) are counted, not applied; an entry naming a question the dataset does not have, or
    whose question text differs, is a DatasetError naming the entry."""
    if dataset.errata is not None:
        raise ValueError(f"errata are already applied to {dataset.source}")
    problems: list[Problem] = []
    by_question: dict[str, ErrataEntry] = {}
    outside = 0
    for entry in errata.entries:
        conversation = dataset.conversation_by_id.get(entry.conversation_id)
        if conversation is None:
            outside += 1
            continue
        question = _question(conversation, entry.question_id)
        if question is None:
            if entry.category == 5 and not dataset.include_adversarial:
                outside += 1  # adversarial questions are not part of this dataset
                continue
            problems.append(
                entry.problem(
                    "question_id",
                    f"{entry.conversation_id} of {dataset.source} has no question at qa index "
                    f"{entry.qa_index}",
                )
            )
        elif " ".join(question.text.split()) != " ".join(entry.question.split()):
            problems.append(
                entry.problem(
                    "question",
                    f"does not match {entry.conversation_id} qa[{entry.qa_index}] of "
                    f"{dataset.source}: errata {preview(entry.question)}, data "
                    f"{preview(question.text)}",
                )
            )
        else:
            by_question[entry.question_id] = entry
    if problems:
        raise DatasetError(problems)
    if not by_question:
        held = ", ".join(c.id for c in dataset.conversations[:4]) or "none"
        raise no_match(errata, f"{dataset.source} split {dataset.split} (conversations {held})")
    changes: list[ErrataChange] = []
    conversations = []
    for conversation in dataset.conversations:
        kept: list[Question] = []
        for question in conversation.questions:
            flagged = by_question.get(question.id)
            if flagged is None:
                kept.append(question)
                continue
            entry = flagged
            action = _action(entry, errata.mode)
            changes.append(
                ErrataChange(
                    entry=entry.audit_id,
                    question=question,
                    error_type=entry.error_type,
                    correct_answer=entry.correct_answer,
                    action=action,
                )
            )
            if action == "corrected":
                kept.append(_corrected(question, entry, conversation))
            elif action == "kept":
                kept.append(question)
        conversations.append(conversation.model_copy(update={"questions": tuple(kept)}))
    stamp = AppliedErrata(
        source=errata.source,
        sha256=errata.sha256,
        mode=errata.mode,
        data_hash=dataset.content_hash,
        changes=tuple(changes),
        not_in_dataset=outside,
    )
    return dataset.model_copy(
        update={
            "conversations": tuple(conversations),
            "content_hash": errata_content_hash(dataset.content_hash, errata),
            "errata": stamp,
        }
    )


def _question(conversation: Conversation, question_id: str) -> Question | None:
    return next((q for q in conversation.questions if q.id == question_id), None)


def _action(entry: ErrataEntry, mode: str) -> str:
    if mode == "correct":
        return "corrected"
    return "excluded" if entry.score_corrupting else "kept"


def _corrected(question: Question, entry: ErrataEntry, conversation: Conversation) -> Question:
    turns = conversation.turn_position
    evidence = tuple(
        dict.fromkeys(t for raw in entry.correct_evidence for t in parse_dia_ids(raw) if t in turns)
    )
    return question.model_copy(
        update={"answers": (entry.correct_answer,), "evidence_turn_ids": evidence}
    )


def errata_content_hash(data_hash: str, errata: Errata) -> str:
    """The content hash of data with `data_hash` once `errata` are applied."""
    text = json.dumps({"data": data_hash, "errata": errata.sha256, "mode": errata.mode})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def errata_summary(applied: AppliedErrata) -> dict[str, Any]:
    """What a result file records about errata: file, sha256, mode, and the questions affected
    (excluded or corrected) per category."""
    affected: dict[str, int] = {}
    for change in applied.changes:
        if change.action != "kept":
            key = str(change.question.category)
            affected[key] = affected.get(key, 0) + 1
    return {
        "source": applied.source,
        "sha256": applied.sha256,
        "mode": applied.mode,
        "data_hash": applied.data_hash,
        "flagged": len(applied.changes),
        "affected": sum(affected.values()),
        "affected_by_category": dict(sorted(affected.items())),
        "entries_outside_dataset": applied.not_in_dataset,
    }


def no_match(errata: Errata, questions_of: str) -> DatasetError:
    """The error for errata none of whose entries names one of the questions scored."""
    return DatasetError(
        [
            Problem(
                errata.source,
                None,
                None,
                f"none of its {len(errata.entries)} entries names a question of {questions_of} "
                "(errata ids follow the official locomo10.json order)",
            )
        ]
    )
