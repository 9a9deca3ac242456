"""Every ```python block of README.md and docs/ runs as written, and shows what it prints.

The blocks of one page run in order in one namespace (a page is one session), in a temporary working
directory. A statement whose line ends in ``# -> VALUE`` is checked: ``str`` (or ``repr``) of its
value must equal ``VALUE``, or start with it when ``VALUE`` ends in ``...``. Pages whose examples
take long are marked slow.
"""

from __future__ import annotations

import ast
import sys
import types
import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PAGES = [p for p in PAGES if "_build" not in p.parts]
#: pages whose examples take more than a few seconds (large networks, certified ranks)
SLOW = {"matrix_free.md"}  # a network with P = 10^6 parameters: minutes on two cores

_BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
_ARROW = re.compile(r"#\s*->\s*(.+?)\s*$")


def python_blocks(path: Path) -> list[str]:
    """The ```python blocks of a Markdown page, in order."""
    return _BLOCK.findall(path.read_text(encoding="utf-8"))


def _matches(value, expected: str) -> bool:
    texts = (str(value), repr(value))
    if expected.endswith("..."):
        return any(t.startswith(expected[:-3]) for t in texts)
    return expected in texts


def run_block(source: str, namespace: dict, where: str) -> None:
    """Run ``source`` statement by statement; check the ``# -> VALUE`` annotations."""
    lines = source.splitlines()
    tree = ast.parse(source, filename=where)
    for node in tree.body:
        last = lines[node.end_lineno - 1]
        m = _ARROW.search(last)
        code = compile(ast.Module([node], []), where, "exec")
        if m and isinstance(node, ast.Expr):
            value = eval(compile(ast.Expression(node.value), where, "eval"), namespace)
            assert _matches(value, m.group(1)), (
                f"{where}, line {node.lineno}: {lines[node.lineno - 1].strip()!r} gave {value!r}, "
                f"the page shows {m.group(1)!r}")
        else:
            assert not m, f"{where}, line {node.lineno}: '# ->' annotates an expression, not a statement"
            exec(code, namespace)


def _param(p: Path):
    name = str(p.relative_to(ROOT))
    marks = [pytest.mark.slow] if p.name in SLOW else []
    return pytest.param(p, id=name, marks=marks)


@pytest.mark.parametrize("page", [_param(p) for p in PAGES if python_blocks(p)])
def test_page_examples_run_as_written(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # a page may register an activation (docs/architecture.md shows how): restore the registry after it
    from symhess.activations import registry

    saved = [(table, dict(table)) for table in (registry.ACTIVATIONS, registry.ALIASES)]
    try:
        _run_page(page, monkeypatch)
    finally:
        for table, before in saved:
            table.clear()
            table.update(before)


def _run_page(page, monkeypatch):
    # a real module, so that classes defined on a page (dataclasses, registered activations) resolve it
    module = types.ModuleType(f"__docs_{page.stem}__")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace = module.__dict__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pages show results; warnings are tested where they are raised
        for k, block in enumerate(python_blocks(page)):
            run_block(block, namespace, f"{page.name}[block {k + 1}]")


def test_every_page_with_code_is_collected():
    names = {p.name for p in PAGES if python_blocks(p)}
    assert {"README.md", "rank.md", "spectra.md", "pennington_bahri.md", "coming_from.md"} <= names


def test_arrow_check_can_fail():
    with pytest.raises(AssertionError, match="gave 4"):
        run_block("2 + 2  # -> 5", {}, "self-test")
    run_block("2 + 2  # -> 4", {}, "self-test")
    run_block("1 / 3  # -> 0.333...", {}, "self-test")
    with pytest.raises(NameError):
        run_block("H", {}, "self-test")  # a name the page never defines fails the page
