"""No module under src/ is over 500 lines unless its docstring says why (issue 16): a line of
the module docstring starting `Over 500 lines because`. Every module is enumerated, so a new
one is covered when it is added.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
LIMIT = 500
REASON = "Over 500 lines because"
MODULES = sorted(SRC.rglob("*.py"))


def test_the_modules_are_found():
    assert len(MODULES) > 100
    assert SRC / "gatepass" / "views.py" in MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(SRC)))
def test_a_long_module_says_why(path: Path):
    text = path.read_text(encoding="utf-8")
    lines = len(text.splitlines())
    if lines <= LIMIT:
        return
    docstring = ast.get_docstring(ast.parse(text)) or ""
    reasons = [line for line in docstring.splitlines() if line.strip().startswith(REASON)]
    assert reasons, (
        f"{path.relative_to(SRC)} has {lines} lines: split it, or say why in its docstring "
        f"with a line starting {REASON!r}"
    )
