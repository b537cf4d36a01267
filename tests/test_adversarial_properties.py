"""Property-based tests at every boundary that takes outside text: generated values, not just
the cases that once broke (those are in test_adversarial.py). Each property says what must hold:
no exception but the documented ones, nothing written on failure, the same exit code for the
same kind of error. Example counts are small so that the file runs in well under a minute."""

from __future__ import annotations

import copy
import io
import json
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import hypothesis.strategies as st
import ijson
import pytest
from hypothesis import HealthCheck, given, settings
from prompt_reading import prompts_with, tag_count

import memgym  # noqa: F401  (registers the environments)
from memgym.agents.parsing import parse_answer_output, parse_manager_output
from memgym.cli import main
from memgym.data import load_dataset, sample_path, validate
from memgym.data.jsonstream import SurrogateEscapes
from memgym.data.stats import dataset_stats
from memgym.errors import DatasetError
from memgym.memory.operations import Op
from memgym.metrics.scoring import read_predictions
from memgym.textsafe import valid_json

FEW = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SOME = settings(FEW, max_examples=100)

# Text with what broke code before: surrogates, superscript and circled digits, long digit runs,
# format characters, tag pieces.
awkward_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from('²①٣7[]<>/\u200b\udcff\ud800\uffff {}":'), max_size=40),
    st.sampled_from(["7" * 5000, "²", "-1", "1e400", "NaN", "", " "]),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    awkward_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(awkward_text, children, max_size=4)
    ),
    max_leaves=12,
)


def _encodes(value: Any) -> bool:
    json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    return True


# --- the completion parsers -----------------------------------------------------------------


@SOME
@given(
    st.one_of(
        awkward_text,
        st.builds(
            lambda items: json.dumps({"memory": items}),
            st.lists(
                st.fixed_dictionaries(
                    {"id": json_values, "event": json_values, "text": json_values}
                ),
                max_size=3,
            ),
        ),
        st.builds(
            lambda op, slot, text: f"{op} {slot}: {text}",
            st.sampled_from(["ADD", "UPDATE", "DELETE", "NONE", "noop"]),
            awkward_text,
            awkward_text,
        ),
        st.builds(lambda depth: "[" * depth + "]" * depth, st.integers(0, 5000)),
    )
)
def test_the_completion_parsers_never_raise_and_give_small_slots(text: str) -> None:
    decision = parse_manager_output(text)
    assert decision.op in Op
    assert decision.target is None or 0 <= decision.target < 10**30
    answer = parse_answer_output(text + " **Answer:** " + text)
    assert all(0 <= i < 10**9 for i in answer.selected)


# --- dataset loaders ------------------------------------------------------------------------


def _paths(
    value: Any, skip: frozenset[str], path: tuple[Any, ...] = ()
) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside `value` (leaves and the containers above them), not
    entering keys in `skip`."""
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                yield from _paths(item, skip, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, skip, (*path, i))


def _replaced(record: Any, edits: list[tuple[int, Any]], skip: frozenset[str] = frozenset()) -> Any:
    """`record` (official schema, real values) with some values, or whole parts, replaced."""
    out = copy.deepcopy(record)
    paths = list(_paths(out, skip))
    for index, value in edits:
        *parents, last = paths[index % len(paths)]
        holder = out
        for step in parents:  # an earlier edit may have replaced a container above
            try:
                holder = holder[step]
            except (KeyError, IndexError, TypeError):
                holder = None
        if isinstance(holder, dict) or (
            isinstance(holder, list) and isinstance(last, int) and last < len(holder)
        ):
            holder[last] = value
    return out


LOCOMO = json.loads(sample_path("locomo").read_text())
LONGMEMEVAL = json.loads(sample_path("longmemeval").read_text())
MSC = [json.loads(line) for line in sample_path("msc").read_text().splitlines()]
edits = st.lists(st.tuples(st.integers(0, 10**6), json_values), min_size=1, max_size=6)


def _check_loader(name: str, path: Path) -> None:
    """Loading gives a Dataset whose text encodes, or a DatasetError; `validate` never raises
    and lists what loading warned about."""
    problems = validate(path, name)
    try:
        dataset = load_dataset(name, path)
    except DatasetError as exc:
        assert any(p.severity == "error" for p in exc.problems)
        assert [p for p in problems if p.severity == "error"]
        return
    assert not [p for p in problems if p.severity == "error"]
    assert set(dataset.warnings) <= set(problems)
    assert _encodes(dataset.model_dump(mode="json"))
    assert _encodes(dataset_stats(dataset))


@FEW
@given(st.integers(0, len(LOCOMO) - 1), edits)
def test_locomo_files_with_arbitrary_values_load_or_are_refused(index: int, changes: Any) -> None:
    raw = [*LOCOMO[:index], _replaced(LOCOMO[index], changes), *LOCOMO[index + 1 :]]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "locomo10.json"
        path.write_text(json.dumps(raw))
        _check_loader("locomo", path)


@FEW
@given(st.integers(0, len(LONGMEMEVAL) - 1), edits)
def test_longmemeval_files_with_arbitrary_values_load_or_are_refused(
    index: int, changes: Any
) -> None:
    raw = [*LONGMEMEVAL[:index], _replaced(LONGMEMEVAL[index], changes)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "longmemeval_oracle.json"
        path.write_text(json.dumps(raw))
        _check_loader("longmemeval", path)


@FEW
@given(edits)
def test_msc_files_with_arbitrary_values_load_or_are_refused(changes: Any) -> None:
    lines = [json.dumps(_replaced(MSC[0], changes)), *map(json.dumps, MSC[1:])]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "msc_self_instruct.jsonl"
        path.write_text("\n".join(lines) + "\n")
        _check_loader("msc", path)


@SOME
@given(st.lists(awkward_text, max_size=6), st.integers(1, 40))
def test_streamed_json_reads_what_json_loads_reads_with_surrogates_repaired(
    texts: list[str], chunk: int
) -> None:
    document = json.dumps(texts).encode()  # lone surrogates as \\udcff escapes

    class Chunks(io.BytesIO):  # a file that returns at most `chunk` bytes per read
        def read(self, size: int | None = -1) -> bytes:
            return super().read(chunk if size is None or size < 0 else min(size, chunk))

    streamed = list(ijson.items(SurrogateEscapes(Chunks(document)), "item"))
    assert _encodes(streamed)  # U+FFFF stands in for each lone surrogate
    unchanged = lambda field, count: None  # noqa: E731
    assert valid_json(streamed, unchanged) == valid_json(json.loads(document), unchanged)


# --- predictions and score ------------------------------------------------------------------

prediction_lines = st.lists(
    st.one_of(
        st.builds(
            lambda qid, prediction: json.dumps({"question_id": qid, "prediction": prediction}),
            st.one_of(st.sampled_from(["sample-1/q0", "sample-3/q2"]), json_values),
            json_values,
        ),
        st.builds(json.dumps, json_values),
        awkward_text,
    ),
    max_size=5,
)
headers = st.one_of(
    st.none(),
    st.builds(
        lambda fields: json.dumps({"format": "memgym.predictions", **fields}),
        st.dictionaries(
            st.sampled_from(["dataset", "data", "split", "include_adversarial"]),
            st.one_of(json_values, st.sampled_from(["locomo", "test", "all"])),
            max_size=4,
        ),
    ),
)


@FEW
@given(headers, prediction_lines)
def test_score_exits_0_1_or_2_and_writes_nothing_unless_it_scored(
    header: str | None, lines: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.jsonl"
        path.write_text("\n".join([header or "", *lines]) + "\n", errors="surrogatepass")
        try:
            read = read_predictions(path)
        except DatasetError as exc:
            assert exc.file == str(path)
            read = None
        out = Path(folder) / "report.json"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = main(
                ["score", "--predictions", str(path), "--dataset", "locomo", "--out", str(out)]
            )
        assert code in (0, 1, 2)
        assert read is not None or code == 2
        assert out.exists() == (code != 2)
        if out.exists():
            assert _encodes(json.loads(out.read_text(encoding="utf-8")))


# --- report on arbitrary results.json -------------------------------------------------------


@pytest.fixture(scope="module")
def finished_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    run = tmp_path_factory.mktemp("run")
    args = ["eval", "--split", "val", "--retriever", "bm25", "--no-progress", "--out", str(run)]
    assert main(args) == 0
    results: dict[str, Any] = json.loads((run / "results.json").read_text())
    return results


@settings(FEW, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits)
def test_report_on_any_results_file_writes_the_page_or_exits_2_writing_nothing(
    finished_results: dict[str, Any], changes: Any
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "run"
        run.mkdir()
        # The per-question rows are long and only counted: edit what the page shows.
        edited = _replaced(finished_results, changes, frozenset({"questions", "conversations"}))
        (run / "results.json").write_text(json.dumps(edited))
        page = Path(folder) / "page.html"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = main(["report", str(run), "--html", str(page)])
        assert code in (0, 2)
        assert page.exists() == (code == 0)


# --- set_state ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def started_env() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = gym.make("MemoryManagerEnv-v0", retriever="bm25").unwrapped
    env.reset(seed=0)
    env.step({"op": 0, "target": 0, "text": "Andrew adopted a dog"})
    return env


@settings(FEW, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits)
def test_set_state_accepts_a_state_or_raises_value_error_changing_nothing(
    started_env: Any, changes: Any
) -> None:
    env = started_env
    state = env.get_state()
    before = json.dumps(state, sort_keys=True)
    try:
        env.set_state(_replaced(state, changes))
    except ValueError:
        assert json.dumps(env.get_state(), sort_keys=True) == before
    finally:
        env.set_state(json.loads(before))


# --- prompt builders ------------------------------------------------------------------------

tag_pieces = st.lists(
    st.sampled_from(
        ["<", "\uff1c", "\ufe64", "/", "memories", "new_fact", ">", "\u200b", "\u00ad", "\ufeff",
         "\u2060", " ", "\n", "\u0301", "x", "3"]
    ),
    max_size=30,
).map("".join)  # fmt: skip


@SOME
@given(st.one_of(tag_pieces, awkward_text))
def test_planted_text_never_opens_or_closes_a_prompt_tag(planted: str) -> None:
    manager, reader = prompts_with(planted)
    for prompt in (manager, reader):
        assert tag_count(prompt, "</memories>") == 1
        assert tag_count(prompt, "<memories>") == 1
    assert tag_count(manager, "</new_fact>") == 1
    assert tag_count(manager, "<new_fact") == 1
