"""Find a file's layout, read it into the schema, select a split, hash the source."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import ijson

from memgym.data import locomo, longmemeval, msc
from memgym.data.categories import ADVERSARIAL
from memgym.data.problems import ProblemLog
from memgym.data.schema import Conversation, Dataset
from memgym.data.splits import in_split
from memgym.errors import DatasetError, Problem
from memgym.io import sha256_file

DATASETS: tuple[str, ...] = ("locomo", "longmemeval", "msc")
SAMPLE_FILES: dict[str, str] = {
    "locomo": "locomo_sample.json",
    "longmemeval": "longmemeval_sample.json",
    "msc": "msc_self_instruct_sample.jsonl",
}


def sample_path(name: str) -> Path:
    """Path of the bundled sample file in `name`'s real format."""
    if name not in SAMPLE_FILES:
        raise ValueError(
            f"no bundled sample for {name!r}; expected one of {', '.join(SAMPLE_FILES)}"
        )
    return Path(str(resources.files("memgym.data") / "samples" / SAMPLE_FILES[name]))


def detect_layout(path: Path) -> tuple[str, str]:
    """(dataset name, variant) of a file or folder; raises DatasetError for an unknown layout."""
    if path.is_dir():
        if any(p.suffix == ".json" for p in path.iterdir()):
            return "locomo", "per-file"
        raise DatasetError([Problem(str(path), None, None, "folder holds no LoCoMo *.json files")])
    if not path.is_file():
        raise DatasetError([Problem(str(path), None, None, "no such file or folder")])
    with path.open("rb") as f:
        head = f.read(1 << 16).lstrip()
    if not head:
        raise DatasetError([Problem(str(path), None, None, "file is empty")])
    if head[:1] == b"{":
        # JSON lines (MSC) put a whole object on the first line; LoCoMo's flat file spans the file.
        first = _first_json_line(path)
        if isinstance(first, dict) and ("dialog" in first or "self_instruct" in first):
            return "msc", "self_instruct" if "self_instruct" in first else "raw"
        return "locomo", "per-file"
    if head[:1] == b"[":
        first = _first_list_item(path)
        if isinstance(first, dict) and "question_id" in first:
            return "longmemeval", _longmemeval_variant(path)
        if isinstance(first, dict) and "conversation" in first:
            return "locomo", "locomo10"
    raise DatasetError(
        [Problem(str(path), "0", None, "unknown layout: not LoCoMo, LongMemEval or MSC")]
    )


def iter_conversations(name: str, path: Path) -> Iterator[Conversation]:
    """Stream a file's conversations, then raise DatasetError if any record was bad."""
    yield from _read(name, path, _variant_of(name, path))


def _variant_of(name: str, path: Path) -> str:
    """The file's variant, after checking that it holds dataset `name`."""
    found, variant = detect_layout(path)
    _expect(name, path, found, variant)
    return variant


def _expect(name: str, path: Path, found: str, variant: str) -> None:
    if found != name:
        raise DatasetError(
            [Problem(str(path), None, None, f"looks like {found} ({variant}), not {name}")]
        )


def _read(name: str, path: Path, variant: str) -> Iterator[Conversation]:
    if path.is_dir():
        yield from _iter_locomo_folder(path)
        return
    log = ProblemLog(str(path))
    if name == "locomo":
        yield from _iter_locomo_file(path, variant, log)
    elif name == "longmemeval":
        with path.open("rb") as f:
            yield from longmemeval.iter_instances(f, log)
    else:
        parse = msc.parse_self_instruct if variant == "self_instruct" else msc.parse_raw_session
        with path.open("rb") as f:
            for index, (record, raw) in enumerate(msc.iter_lines(f, log)):
                conversation = parse(raw, index, record, log)
                if conversation is not None:
                    yield conversation
    log.raise_if_any()


def load_dataset(
    name: str,
    path: str | Path | None = None,
    split: str = "all",
    *,
    include_adversarial: bool = False,
) -> Dataset:
    """Load `name` from `path` (the bundled sample when None), keeping the conversations of `split`.

    LoCoMo's adversarial category 5 is dropped unless `include_adversarial` (as in Memory-R1).
    Raises DatasetError naming file, record and field for malformed input.
    """
    if name == "sample":
        name = "locomo"
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    source = sample_path(name) if path is None else Path(path)
    in_split("locomo", "", split)  # validates the split name before reading anything
    variant = _variant_of(name, source)
    conversations = []
    for conversation in _read(name, source, variant):
        if not in_split(name, conversation.id, split):
            continue
        if not include_adversarial:
            kept = tuple(q for q in conversation.questions if q.category != ADVERSARIAL)
            conversation = conversation.model_copy(update={"questions": kept})
        conversations.append(conversation)
    return Dataset(
        name=name,
        variant="sample" if path is None else variant,
        split=split,
        source=str(source),
        content_hash=content_hash(source),
        include_adversarial=include_adversarial,
        conversations=tuple(conversations),
    )


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes; for a folder, of its sorted (name, file hash) listing."""
    if path.is_dir():
        listing = "".join(f"{p.name}\0{content_hash(p)}\n" for p in sorted(path.glob("*.json")))
        return hashlib.sha256(listing.encode()).hexdigest()
    return sha256_file(path)


def validate(path: str | Path, name: str | None = None) -> list[Problem]:
    """Every problem in a dataset file or folder (empty list when it loads cleanly)."""
    source = Path(path)
    try:
        found, variant = detect_layout(source)
        _expect(name or found, source, found, variant)
        for _ in _read(found, source, variant):
            pass
    except DatasetError as exc:
        return list(exc.problems)
    return []


def _iter_locomo_file(path: Path, variant: str, log: ProblemLog) -> Iterator[Conversation]:
    data = _read_json(path)
    if variant == "per-file":
        samples: list[Any] = [locomo.flat_to_sample(data, locomo.sample_id_from_filename(path))]
    else:
        samples = data
    for index, raw in enumerate(samples):
        conversation = locomo.parse_sample(raw, str(index), log)
        if conversation is not None:
            yield conversation


def _iter_locomo_folder(folder: Path) -> Iterator[Conversation]:
    problems: list[Problem] = []
    files = sorted(folder.glob("*.json"), key=_numeric_name_order)
    for file in files:
        log = ProblemLog(str(file))
        try:
            yield from _iter_locomo_file(file, "per-file", log)
        except DatasetError as exc:
            problems.extend(exc.problems)
        problems.extend(log.problems)
    if problems:
        raise DatasetError(problems)


def _numeric_name_order(path: Path) -> tuple[bool, int, str]:
    """`2.json` before `10.json`; non-numeric names last."""
    numeric = path.stem.isdigit()
    return (not numeric, int(path.stem) if numeric else 0, path.name)


def _read_json(path: Path) -> Any:
    try:
        with path.open("rb") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise DatasetError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                )
            ]
        ) from exc


def _first_json_line(path: Path) -> Any:
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                try:
                    return json.loads(line)
                except json.JSONDecodeError:
                    return None
    return None


def _first_list_item(path: Path) -> Any:
    with path.open("rb") as f:
        try:
            return next(ijson.items(f, "item", use_float=True), None)
        except ijson.JSONError as exc:
            raise DatasetError([Problem(str(path), "0", None, f"invalid JSON: {exc}")]) from exc


def _longmemeval_variant(path: Path) -> str:
    stem = path.name.removesuffix(".json").removesuffix("_cleaned")
    return stem.removeprefix("longmemeval_") if stem.startswith("longmemeval_") else "custom"
