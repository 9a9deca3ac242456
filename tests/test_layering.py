"""The import DAG: engine, then model families, then outputs; no module imports one to its right.

Function-level imports count as imports: a lazy import is no way around a layering rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "symhess"

#: stages in order; a module may import its own stage and the stages to its left, except that the
#: model families are peers: a family imports the engine and itself, never another family
ENGINE = ["errors", "symbols", "validation", "activations", "expectation", "kernels", "linalg"]
FAMILIES = ["two_layer", "deep", "free_probability", "ufm"]
OUTPUTS = ["export", "check", "sweep", "cli"]
LAYERS = ENGINE + FAMILIES + OUTPUTS


def _rank(stage: str) -> int:
    if stage in FAMILIES:
        return len(ENGINE)
    return LAYERS.index(stage) if stage in ENGINE else LAYERS.index(stage) - len(FAMILIES) + 1


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        yield name, path


def _imports(name: str, path: Path):
    tree = ast.parse(path.read_text())
    pkg_parts = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg_parts[: len(pkg_parts) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    for alias in node.names:
                        yield mod + "." + alias.name
                else:
                    yield mod
            else:
                yield node.module or ""


def _stage_of_file(name: str) -> str:
    stage = _stage(name)
    return stage if stage in LAYERS else "__init__"


@pytest.mark.parametrize("name,path", list(_modules()), ids=lambda x: str(x))
def test_imports_flow_left(name, path):
    stage = _stage_of_file(name)
    if stage == "__init__":
        return  # the top-level package only re-exports, lazily
    assert stage in LAYERS, f"{name}: stage {stage!r} is not in the layer list {LAYERS}"
    for imported in _imports(name, path):
        if not imported.startswith("symhess"):
            continue
        target = _stage(imported)
        if target == "__version__":
            continue  # the version constant of the top-level package
        assert target in LAYERS, f"{name} imports {imported}, which is no pipeline stage"
        assert _rank(target) <= _rank(stage), (
            f"{name} (stage {stage}) imports {imported} (stage {target}), a stage to its right"
        )
        if stage in FAMILIES and target in FAMILIES:
            assert target == stage, f"{name} (family {stage}) imports {imported} of another family {target}"


def test_linear_algebra_does_not_import_sympy():
    for name, path in _modules():
        if _stage(name) not in ("linalg", "validation"):
            continue
        for imported in _imports(name, path):
            assert not imported.startswith("sympy"), f"{name} imports {imported}: numeric linear algebra works on arrays only"


def test_every_stage_is_known():
    for child in PKG.iterdir():
        if child.name.startswith("_") or child.name == "py.typed":
            continue
        assert child.stem in LAYERS or child.name == "__pycache__", f"{child.name} is not a pipeline stage"


def _module_graph() -> dict[str, set[str]]:
    """Module -> the symhess modules it imports, module-level and function-level imports alike.

    ``from package import name`` is an edge to ``package.name`` when that is a module, else to
    ``package``; the parent packages an import runs first are no edges of their own (the
    top-level package re-exports lazily).
    """
    modules = dict(_modules())
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        pkg_parts = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = ".".join(pkg_parts[: len(pkg_parts) - node.level + 1] + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            edges.update(t for t in targets if t in modules and t != name)
        graph[name] = edges
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph as a list of nodes (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_find_cycle_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_import_graph_has_no_cycles():
    graph = _module_graph()
    assert "symhess.export.latex" in graph["symhess.export.rules"]  # the graph sees imports
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_block_names_and_parts_are_defined_once():
    from symhess.check import formula
    from symhess.export import formats, notation
    from symhess.two_layer import assemble, blocks, templates

    assert formula.BLOCKS is templates.BLOCK_NAMES and formats.BLOCKS is templates.BLOCK_NAMES
    assert tuple(notation.BLOCK_NAMES) == templates.BLOCK_NAMES
    assert assemble.HESSIAN_PARTS is templates.HESSIAN_PARTS
    assert blocks.PARTS is templates.BLOCK_PARTS and formula.PARTS is templates.BLOCK_PARTS
    assert set(templates.GAUSS_NEWTON) == set(templates.BLOCK_NAMES)
    for name in templates.BLOCK_NAMES:  # the basis table is what Stein's lemma gives
        assert set(blocks.block_template(templates.GAUSS_NEWTON[name]).pair) == set(templates.BLOCK_BASIS[name])
    assert {b for basis in templates.BLOCK_BASIS.values() for b in basis} == set(blocks.BASIS_SYMBOLS)
