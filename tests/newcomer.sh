#!/usr/bin/env bash
# A newcomer's session with the README: every ```bash and ```python block of README.md, exactly
# as written and in order, in one shell started at the repository root (state carries over, as
# when a person pastes them). A block preceded by `<!-- newcomer: skip (why) -->` is not run:
# it needs the network, a GPU, an LLM endpoint or real data, or it is `make test` itself.
# Fails at the first command that fails, naming the README line of its block.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
session="$(mktemp)"
trap 'rm -f "$session"' EXIT

python3 - "$root/README.md" >"$session" <<'EXTRACT'
import re
import sys

lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
out = ["set -euo pipefail"]
skip_next = False
i = 0
while i < len(lines):
    line = lines[i]
    fence = re.match(r"^```(\w+)\s*$", line)
    if line.startswith("<!-- newcomer: skip"):
        skip_next = True
    elif fence:
        language, start = fence.group(1), i + 1
        i += 1
        body = []
        while i < len(lines) and lines[i] != "```":
            body.append(lines[i])
            i += 1
        if language in ("bash", "python") and not skip_next:
            out.append(f"echo '=== README.md line {start} ({language})' >&2")
            if language == "bash":
                out.extend(body)
            else:
                out.append("python - <<'MEMGYM_README_PYTHON'")
                out.extend(body)
                out.append("MEMGYM_README_PYTHON")
        skip_next = False
    elif line.strip():
        skip_next = False
    i += 1
print("\n".join(out))
EXTRACT

cd "$root"
bash "$session"
echo "newcomer session: every README block ran" >&2
