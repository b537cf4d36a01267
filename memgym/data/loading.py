"""Find a file's layout, read it into the schema, select a split, hash the source.

Every reader streams (ijson through a depth guard), so a file is never held twice in memory and
hostile nesting cannot exhaust it. Record-level defects become warnings kept on the Dataset;
file-level defects raise DatasetError; `strict=True` makes every warning an error.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import IO, Any, TextIO

import ijson

from memgym.data import locomo, longmemeval, msc
from memgym.data.categories import ADVERSARIAL
from memgym.data.jsonstream import TooDeepError, has_bom, iter_items, load_root, open_json
from memgym.data.problems import ProblemLog, preview
from memgym.data.schema import Conversation, Dataset
from memgym.data.splits import in_split
from memgym.errors import DatasetError, Problem
from memgym.io import sha256_file
from memgym.textsafe import numeric_order

DATASETS: tuple[str, ...] = ("locomo", "longmemeval", "msc")
SAMPLE_FILES: dict[str, str] = {
    "locomo": "locomo_sample.json",
    "longmemeval": "longmemeval_sample.json",
    "msc": "msc_self_instruct_sample.jsonl",
}
_HEAD_BYTES = 1 << 16


def sample_path(name: str) -> Path:
    """Path of the bundled sample file in `name`'s real format."""
    if name not in SAMPLE_FILES:
        raise ValueError(
            f"no bundled sample for {name!r}; expected one of {', '.join(SAMPLE_FILES)}"
        )
    return Path(str(resources.files("memgym.data") / "samples" / SAMPLE_FILES[name]))


def _fail(path: Path, message: str, record: str | None = None) -> DatasetError:
    return DatasetError([Problem(str(path), record, None, message)])


def detect_layout(path: Path) -> tuple[str, str]:
    """(dataset name, variant) of a file or folder; raises DatasetError for an unknown layout."""
    if path.is_dir():
        if any(p.is_file() for p in _json_files(path)):
            return "locomo", "per-file"
        raise _fail(path, "folder holds no LoCoMo *.json files")
    if not path.is_file():
        raise _fail(path, "no such file or folder")
    with open_json(path) as f:
        head = f.read(_HEAD_BYTES).lstrip()
    if not head:
        raise _fail(path, "file is empty")
    if head[:1] == b"{":
        # JSON lines (MSC) put a whole object on the first line; LoCoMo's flat file spans the file.
        first = _first_json_line(path)
        if isinstance(first, dict) and ("dialog" in first or "self_instruct" in first):
            return "msc", "self_instruct" if "self_instruct" in first else "raw"
        return "locomo", "per-file"
    if head[:1] == b"[":
        first = _first_list_item(path)
        if first is _EMPTY:
            raise _fail(path, "the file holds an empty list: no records")
        if isinstance(first, dict):
            if {"question_id", "haystack_sessions"} & set(first):
                return "longmemeval", _longmemeval_variant(path)
            if {"conversation", "qa", "sample_id"} & set(first):
                return "locomo", "locomo10"
            keys = ", ".join(sorted(map(str, first))[:8]) or "none"
            raise _fail(
                path,
                f"unknown layout: record 0 has keys {keys}, expected LoCoMo "
                "(sample_id, conversation, qa) or LongMemEval (question_id, ...)",
                "0",
            )
    raise _fail(path, "unknown layout: not LoCoMo, LongMemEval or MSC JSON", "0")


def iter_conversations(name: str, path: Path, strict: bool = False) -> Iterator[Conversation]:
    """Stream a file's conversations, then raise DatasetError on errors (or, strict, warnings)."""
    log = ProblemLog(str(path))
    yield from _read(name, path, _variant_of(name, path), log)
    log.raise_if_any(strict)


def _variant_of(name: str, path: Path) -> str:
    """The file's variant, after checking that it holds dataset `name`."""
    found, variant = detect_layout(path)
    _expect(name, path, found, variant)
    return variant


def _expect(name: str, path: Path, found: str, variant: str) -> None:
    if found != name:
        raise _fail(path, f"looks like {found} ({variant}), not {name}")


def _read(name: str, path: Path, variant: str, log: ProblemLog) -> Iterator[Conversation]:
    """Every usable conversation of `path`; problems go to `log` (one log for a folder too)."""
    if path.is_dir():
        yield from _iter_locomo_folder(path, log)
        return
    if has_bom(path):
        log.add(None, None, "UTF-8 byte-order mark at the start; skipped")
    with open_json(path) as f:
        if name == "locomo":
            yield from _iter_locomo_stream(f, path, variant, log)
        elif name == "longmemeval":
            yield from _guarded(longmemeval.iter_instances(f, log), log)
        else:
            parse = msc.parse_self_instruct if variant == "self_instruct" else msc.parse_raw_session
            for index, (record, raw) in enumerate(msc.iter_lines(f, log)):
                conversation = parse(raw, index, record, log)
                if conversation is not None:
                    yield conversation


def load_dataset(
    name: str,
    path: str | Path | None = None,
    split: str = "all",
    *,
    include_adversarial: bool = False,
    strict: bool = False,
) -> Dataset:
    """Load `name` from `path` (the bundled sample when None), keeping the conversations of `split`.

    LoCoMo's adversarial category 5 is dropped unless `include_adversarial` (as in Memory-R1).
    Record-level defects are kept as `Dataset.warnings`; `strict` raises on any of them.
    Raises DatasetError naming file, record and field when the source cannot be read.
    """
    if name == "sample":
        name = "locomo"
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    source = sample_path(name) if path is None else Path(path)
    in_split("locomo", "", split)  # validates the split name before reading anything
    variant = _variant_of(name, source)
    log = ProblemLog(str(source))
    conversations = []
    seen: set[str] = set()
    for conversation in _unique(_read(name, source, variant, log), seen, log):
        if not in_split(name, conversation.id, split):
            continue
        if not include_adversarial:
            kept = tuple(q for q in conversation.questions if q.category != ADVERSARIAL)
            conversation = conversation.model_copy(update={"questions": kept})
        conversations.append(conversation)
    if not seen:
        log.fail(None, None, "no usable record in the file")
    log.raise_if_any(strict)
    return Dataset(
        name=name,
        variant="sample" if path is None else variant,
        split=split,
        source=str(source),
        content_hash=content_hash(source),
        include_adversarial=include_adversarial,
        conversations=tuple(conversations),
        warnings=tuple(log.warnings),
    )


def report_warnings(dataset: Dataset, stream: TextIO | None = None) -> None:
    """One line on stderr when the source had warnings (what `memgym data validate` lists)."""
    if not dataset.warnings:
        return
    n = len(dataset.warnings)
    print(
        f"memgym: {n} data warning{'s' if n != 1 else ''} in {dataset.source} (repaired or "
        f"skipped; `memgym data validate {dataset.source}` lists them; --strict refuses them)",
        file=stream or sys.stderr,
    )


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes; for a folder, of its sorted (name, file hash) listing."""
    if path.is_dir():
        listing = "".join(f"{p.name}\0{sha256_file(p)}\n" for p in _json_files(path) if p.is_file())
        return hashlib.sha256(listing.encode()).hexdigest()
    return sha256_file(path)


def validate(path: str | Path, name: str | None = None) -> list[Problem]:
    """Every problem (warnings and errors) in a dataset file or folder; empty when it is clean."""
    source = Path(path)
    log = ProblemLog(str(source))
    try:
        found, variant = detect_layout(source)
        _expect(name or found, source, found, variant)
        seen: set[str] = set()
        for _ in _unique(_read(found, source, variant, log), seen, log):
            pass
        if not seen:
            log.fail(None, None, "no usable record in the file")
    except DatasetError as exc:
        return [*log.problems, *exc.problems]
    return log.problems


def _unique(
    conversations: Iterator[Conversation], seen: set[str], log: ProblemLog
) -> Iterator[Conversation]:
    """The first conversation of each id; a repeat is a warning (validating and loading report
    the same problems)."""
    for conversation in conversations:
        if conversation.id in seen:
            log.add(conversation.id, None, "duplicate conversation id; record dropped")
            continue
        seen.add(conversation.id)
        yield conversation


def _iter_locomo_stream(
    f: IO[bytes], path: Path, variant: str, log: ProblemLog
) -> Iterator[Conversation]:
    if variant == "per-file":
        try:
            raw = load_root(f)
        except (ijson.JSONError, TooDeepError, ValueError) as exc:
            log.fail(None, None, f"invalid JSON: {exc}")
            return
        if isinstance(raw, list):  # a locomo10-style list inside a per-file folder
            yield from _samples(iter(raw), log)
            return
        sample_id = locomo.sample_id_from_filename(path)
        if not isinstance(raw, dict):
            log.add(
                sample_id,
                "<root>",
                f"expected an object, got {type(raw).__name__}; {locomo.DROP_RECORD}",
            )
            return
        raw = log.valid(raw, sample_id)
        conversation = locomo.parse_sample(locomo.flat_to_sample(raw, sample_id), sample_id, log)
        if conversation is not None:
            yield conversation
        return
    yield from _guarded(_samples(iter_items(f), log), log)


def _samples(raws: Iterator[Any], log: ProblemLog) -> Iterator[Conversation]:
    for index, raw in enumerate(raws):
        conversation = locomo.parse_sample(log.valid(raw, str(index)), str(index), log)
        if conversation is not None:
            yield conversation


def _guarded(conversations: Iterator[Conversation], log: ProblemLog) -> Iterator[Conversation]:
    """Records up to a stream error, which is recorded as a file-level error (a truncated or
    hostile file must not look like a shorter clean one)."""
    count = 0
    try:
        for conversation in conversations:
            count += 1
            yield conversation
    except (ijson.JSONError, TooDeepError, UnicodeDecodeError) as exc:
        log.fail(None, None, f"invalid JSON after {count} usable records: {preview(str(exc))}")


def _iter_locomo_folder(folder: Path, log: ProblemLog) -> Iterator[Conversation]:
    for file in _json_files(folder):
        if not file.is_file():
            log.add(file.name, None, "not a regular file; ignored")
            continue
        file_log = ProblemLog(str(file))
        try:
            found, variant = detect_layout(file)
            _expect("locomo", file, found, variant)
        except DatasetError as exc:
            log.problems.extend(
                p if p.severity == "warning" else _as_warning(p) for p in exc.problems
            )
            continue
        if has_bom(file):
            file_log.add(None, None, "UTF-8 byte-order mark at the start; skipped")
        with open_json(file) as f:
            yield from _iter_locomo_stream(f, file, variant, file_log)
        log.problems.extend(file_log.problems)


def _as_warning(problem: Problem) -> Problem:
    return Problem(
        problem.file, problem.record, problem.field, f"{problem.message}; file ignored", "warning"
    )


def _json_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"), key=_numeric_name_order)


def _numeric_name_order(path: Path) -> tuple[tuple[int, int, str], str]:
    """`2.json` before `10.json`; non-numeric names (`².json` too) last."""
    return (numeric_order(path.stem), path.name)


def _first_json_line(path: Path) -> Any:
    with open_json(path) as f:
        for line in f:
            if line.strip():
                try:
                    return json.loads(line)
                except (ValueError, RecursionError):  # bad UTF-8 is a ValueError too
                    return None
    return None


_EMPTY = object()


def _first_list_item(path: Path) -> Any:
    with open_json(path) as f:
        try:
            return next(iter_items(f), _EMPTY)
        except (ijson.JSONError, TooDeepError) as exc:
            raise _fail(path, f"invalid JSON: {preview(str(exc))}", "0") from exc


def _longmemeval_variant(path: Path) -> str:
    stem = path.name.removesuffix(".json").removesuffix("_cleaned")
    return stem.removeprefix("longmemeval_") if stem.startswith("longmemeval_") else "custom"
