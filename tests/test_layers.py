"""The package is layered and acyclic: errors/limits/naming -> spec -> components -> core -> edges.

The import graph is read from the source (every `import`, at module level or inside a function),
so a lazy import cannot hide a cycle or a layer violation.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mlmon_cli"

# Lowest first. A module may import its own layer or lower ones, never a higher one.
LAYERS = [
    ("foundation", ("mlmon_cli", "mlmon_cli.errors", "mlmon_cli.limits", "mlmon_cli.naming", "mlmon_cli.render", "mlmon_cli.asl",
                    "mlmon_cli.alarm_tree", "mlmon_cli.alarm_model", "mlmon_cli.serialize")),
    ("spec", ("mlmon_cli.spec",)),
    ("components", ("mlmon_cli.components", "mlmon_cli.workflow")),
    ("core", ("mlmon_cli.core",)),
    ("edges", ("mlmon_cli.output", "mlmon_cli.discover", "mlmon_cli.lint", "mlmon_cli.lint_output", "mlmon_cli.rules",
               "mlmon_cli.schema", "mlmon_cli.aws", "mlmon_cli.docs", "mlmon_cli.plan", "mlmon_cli.suggest", "mlmon_cli.cli",
               "mlmon_cli.__main__")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every mlmon_cli module `path` imports, wherever the import statement is."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("mlmon_cli"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("mlmon_cli"):
                continue
            for alias in node.names:  # `from . import naming` imports the module mlmon_cli.naming
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _exists(candidate) else target)
    found.discard(name)
    return found


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").exists() or (PACKAGE / rel / "__init__.py").exists()


@functools.cache  # one parse of the package for every test here
def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int:
    best = (-1, -1)
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                best = max(best, (len(prefix), index))
    if best[1] < 0:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in {__file__}")
    return best[1]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_has_no_cycle() -> None:
    assert cycles(graph()) == []


def test_no_module_imports_a_higher_layer() -> None:
    violations = [f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})"
                  for a, targets in graph().items() for b in sorted(targets) if layer_of(b) > layer_of(a)]
    assert violations == []


def test_the_cycle_finder_finds_a_cycle_through_a_lazy_import(tmp_path) -> None:
    """The checker itself can fail: a function-level import that closes a loop is reported."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from mlmon_cli.cli import main\n")
    assert "mlmon_cli.cli" in {t for node in ast.walk(ast.parse(source.read_text())) if isinstance(node, ast.ImportFrom)
                               for t in [node.module]}


@pytest.mark.parametrize("module", ["mlmon_cli.spec.convert", "mlmon_cli.components.base"])
def test_lower_layers_import_nothing_of_the_core(module: str) -> None:
    edges = graph()
    assert not any(layer_of(t) >= layer_of("mlmon_cli.core") for t in edges[module])
