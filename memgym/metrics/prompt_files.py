"""Judge prompts from files: a user's template (Mem0's or LongMemEval's own judge prompt, say),
checked before any call and recorded by sha256.

A template is text with Python format fields. A judge template must use `{question}`,
`{gold_answer}` and `{generated_answer}` (Mem0's names) and nothing else; literal braces are
doubled (`{{"label": "CORRECT"}}`). The whole rendered text is sent as one user message, as
both references do. The reply is read by the rule the user names:

- `label`: memgym's reading of Mem0's verdict (a `label` of CORRECT or WRONG in any case, or
  the bare word; conflicting or missing labels are unreadable, recorded, never correct);
- `yes`: memgym's reading of LongMemEval's (`yes` anywhere; an empty reply is unreadable);
- `mem0-exact`: Mem0's own (the reply parsed as JSON; correct only when `label` is exactly
  CORRECT; a reply that is not JSON is unreadable where the reference raises);
- `longmemeval-exact`: LongMemEval's own (`yes` anywhere; an empty reply is wrong).
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memgym.errors import DatasetError, Problem
from memgym.io import sha256_file
from memgym.metrics.judge import LongMemEvalJudge, Mem0Judge

JUDGE_FIELDS = ("question", "gold_answer", "generated_answer")
# An answer prompt: the memories block as memgym renders it (grouped per speaker, between
# <memories> tags, text neutralised) and the question with its date.
ANSWER_FIELDS = ("memories", "question")
PARSE_RULES = ("label", "yes", "mem0-exact", "longmemeval-exact")
_EXACT_RULES = {
    "mem0-exact": "the reply parsed as JSON; correct only when its label is exactly CORRECT "
    "(Mem0's rule); not JSON: unreadable",
    "longmemeval-exact": "correct when the reply contains 'yes' in any case; an empty reply is "
    "wrong (LongMemEval's rule)",
}


@dataclass(frozen=True)
class PromptTemplate:
    """A checked template: its file, sha256 and text."""

    path: str
    sha256: str
    text: str

    def render(self, **values: str) -> str:
        return self.text.format(**values)


def load_template(path: str | Path, fields: tuple[str, ...] = JUDGE_FIELDS) -> PromptTemplate:
    """Read a template and check its placeholders: every one of `fields` used, nothing else, no
    positional or formatted fields; DatasetError naming the file and placeholder otherwise."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError([Problem(str(source), None, None, f"cannot read: {exc}")]) from exc
    try:
        found = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(text)
            if name is not None
        ]
    except ValueError as exc:  # a lone brace
        raise DatasetError(
            [
                Problem(
                    str(source), None, None, f"not a format template: {exc} (double literal braces)"
                )
            ]
        ) from exc
    expected = ", ".join("{" + f + "}" for f in fields)
    problems = [
        Problem(
            str(source),
            None,
            f"{{{name}}}",
            f"unknown placeholder; a template uses exactly {expected}",
        )
        for name, _, _ in found
        if name not in fields
    ]
    problems += [
        Problem(str(source), None, f"{{{name}}}", "conversions and format specs are not allowed")
        for name, spec, conversion in found
        if spec or conversion
    ]
    used = {name for name, _, _ in found}
    problems += [
        Problem(str(source), None, f"{{{field}}}", "missing placeholder")
        for field in fields
        if field not in used
    ]
    if problems:
        raise DatasetError(problems)
    return PromptTemplate(str(source), sha256_file(source), text)


def load_answer_prompt(path: str | Path) -> PromptTemplate:
    """An answer prompt template (`{memories}`, `{question}`), checked as `load_template`."""
    return load_template(path, ANSWER_FIELDS)


class TemplateJudge:
    """A judge whose prompt is a user's template and whose reply is read by `parse` ("label":
    Mem0's rule, "yes": LongMemEval's)."""

    version = "1"

    def __init__(self, template: PromptTemplate, parse: str = "label") -> None:
        if parse not in PARSE_RULES:
            raise ValueError(
                f"unknown parse rule {parse!r}; expected one of {', '.join(PARSE_RULES)}"
            )
        self.template = template
        self.rule = parse
        self.reader = Mem0Judge() if parse in ("label", "mem0-exact") else LongMemEvalJudge()
        self.parse_rule = _EXACT_RULES.get(parse, self.reader.parse_rule)
        self.name = f"template-judge ({Path(template.path).name})"

    def prompt(
        self, question: str, gold: str, prediction: str, category: int | str
    ) -> list[dict[str, str]]:
        text = self.template.render(
            question=question, gold_answer=gold, generated_answer=prediction
        )
        return [{"role": "user", "content": text}]

    def parse(self, reply: str) -> bool | None:
        if self.rule == "mem0-exact":
            try:
                verdict = json.loads(reply)
            except ValueError:
                return None
            return isinstance(verdict, dict) and verdict.get("label") == "CORRECT"
        if self.rule == "longmemeval-exact":
            return "yes" in reply.lower()
        return self.reader.parse(reply)

    def reasoning(self, reply: str) -> str | None:
        return self.reader.reasoning(reply)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "prompt_file": self.template.path,
            "prompt_sha256": self.template.sha256,
            "parse_rule": self.parse_rule,
        }
