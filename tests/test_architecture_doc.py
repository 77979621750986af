"""docs/architecture.md shows the tree with one line per module (issue 16): every module and
package under src/gatepass/ has its line, and every line names one that exists. The modules
are enumerated from the source tree, so a new one fails this test until it is described.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "gatepass"
DOC = ROOT / "docs" / "architecture.md"
# Described as a whole by their directory's line.
SUMMARISED = {PACKAGE / "adapters" / "sql" / "migrations" / "versions"}


def _documented() -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("## The tree", 1)[1].split("```", 2)[1]
    lines = [line for line in block.splitlines()[1:] if line.strip()]
    assert lines[0] == "src/gatepass/"
    found: set[str] = set()
    stack: list[str] = []
    for line in lines[1:]:
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name = line.split()[0]
        stack = stack[: depth - 1]
        path = "/".join([*stack, name.rstrip("/")])
        found.add(path)
        if name.endswith("/"):
            stack.append(name.rstrip("/"))
    return found


def _modules() -> set[str]:
    found = {str(path.relative_to(PACKAGE)) for path in SUMMARISED if path.is_dir()}
    for path in PACKAGE.rglob("*.py"):
        if any(parent in SUMMARISED for parent in path.parents):
            continue
        if path.name == "__init__.py":
            if path.parent != PACKAGE:
                found.add(str(path.parent.relative_to(PACKAGE)))
        else:
            found.add(str(path.relative_to(PACKAGE)))
    return found


def test_every_module_has_its_line():
    missing = sorted(_modules() - _documented())
    assert not missing, f"add a line for each to the tree in docs/architecture.md: {missing}"


def test_every_line_names_a_module():
    stale = sorted(_documented() - _modules())
    assert not stale, f"remove or rename these lines of docs/architecture.md's tree: {stale}"
