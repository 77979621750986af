"""Executes the examples in the Markdown docs against a real server.

Conventions in docs/*.md and README.md:
- a ```bash block is executed (blocks of one file run in order, in one bash session, with
  `set -euo pipefail`, so variables carry over); ```sh blocks are shown but not run;
- a ```json block right after a bash block is the expected output: the same JSON, where the
  string "..." matches any value and an object must have exactly the keys shown;
- a ```text block right after a bash block is the expected output, exactly;
- the environment provides GATEPASS (the server's URL), ADMIN_PASSWORD, GATEPASS_HOME, the
  `gatepass` command on PATH, and IDP: a test OpenID provider (tests/idp.py) whose `/mint?sub=`
  returns a token it signed, standing in for the reader's identity provider.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_FENCE = re.compile(r"^```(\w*)\s*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_MARK = "@@gatepass-doc-block@@"


@dataclass
class Example:
    source: str
    expected_kind: str | None
    expected: str | None


def examples(markdown: str) -> list[Example]:
    fences = [(m.group(1), m.group(2)) for m in _FENCE.finditer(markdown)]
    found = []
    for index, (lang, body) in enumerate(fences):
        if lang != "bash":
            continue
        following = fences[index + 1] if index + 1 < len(fences) else None
        if following and following[0] in {"json", "text"}:
            found.append(Example(body, following[0], following[1]))
        else:
            found.append(Example(body, None, None))
    return found


def run_examples(markdown: str, env: dict[str, str], cwd: Path) -> list[str]:
    """Run every example; return a list of problems (empty when all matched)."""
    items = examples(markdown)
    script = "set -euo pipefail\n" + "".join(f"{item.source}\necho {_MARK}\n" for item in items)
    result = subprocess.run(
        ["bash", "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    outputs = result.stdout.split(_MARK + "\n")
    problems = []
    if result.returncode != 0:
        problems.append(f"bash exited {result.returncode}: {result.stderr[-2000:]}")
    for index, item in enumerate(items):
        if index >= len(outputs) - 1:
            problems.append(f"example {index + 1} did not run:\n{item.source}")
            break
        output = outputs[index]
        if item.expected_kind == "text" and output.strip() != (item.expected or "").strip():
            problems.append(f"example {index + 1}: expected {item.expected!r}, got {output!r}")
        if item.expected_kind == "json":
            problem = _compare_json(output, item.expected or "")
            if problem:
                problems.append(f"example {index + 1}:\n{item.source}\n{problem}")
    return problems


def _compare_json(output: str, expected_text: str) -> str | None:
    try:
        actual = json.loads(output)
    except json.JSONDecodeError:
        return f"output is not JSON: {output!r}"
    expected = json.loads(expected_text)
    if not _matches(actual, expected):
        return f"expected {json.dumps(expected)}\n     got {json.dumps(actual)}"
    return None


def _matches(actual: Any, expected: Any) -> bool:
    if expected == "...":
        return True
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(_matches(actual[key], value) for key, value in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_matches(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected)
