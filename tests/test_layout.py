"""The package's import graph: no cycle, and every import points down the flow.

Run this file to see the graph: ``.venv/bin/python tests/test_layout.py`` prints each module's
layer and the package modules it imports (lazy imports inside functions included).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "nbannotate"

# Bottom to top; a module may import from its own layer or any layer below it.
LAYERS: list[tuple[str, set[str]]] = [
    (
        "bottom",
        {
            "errors",
            "checks",
            "jsonl",
            "items",
            "sources",
            "tasks",
            "models",
            "sorters",
            "graphemes",
            "effort",
            "progress",
            "data",
        },
    ),
    (
        "stages",
        {"patterns", "candidates", "examples", "store", "precision", "questions", "agreement"},
    ),
    ("learning", {"updater", "checkpoint", "silver", "train", "training"}),
    ("sessions", {"base_session", "session", "manual", "recipes", "review"}),
    ("top", {"feed", "widget", "__init__"}),
]
# A session hands its display to its view (``_repr_mimebundle_``), as a model hands itself to
# its view in jupyter-scatter; the view never imports a session.
ALLOWED_UPWARD = {("base_session", "widget")}


def layer_of(module: str) -> int:
    """The layer of a module; a subpackage's modules (``store.engine``) are in its layer."""
    for i, (_name, modules) in enumerate(LAYERS):
        if module in modules or module.split(".")[0] in modules:
            return i
    raise AssertionError(
        f"nbannotate/{module}.py is in no layer: add it to LAYERS in tests/test_layout.py "
        f"and to the code layout table in docs/architecture.md"
    )


def package_modules() -> dict[str, Path]:
    """Module name -> file: ``widget`` for nbannotate/widget.py, ``store`` for
    nbannotate/store/__init__.py, ``store.engine`` for nbannotate/store/engine.py."""
    modules = {path.stem: path for path in PACKAGE.glob("*.py")}
    for init in PACKAGE.glob("*/__init__.py"):
        package = init.parent.name
        modules[package] = init
        for path in init.parent.glob("*.py"):
            if path.stem != "__init__":
                modules[f"{package}.{path.stem}"] = path
    return modules


def _imported(module: str, is_package: bool, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The dotted names (relative to nbannotate) an import statement may name."""
    if isinstance(node, ast.Import):
        return [
            alias.name.split(".", 1)[1]
            for alias in node.names
            if alias.name.startswith("nbannotate.")
        ]
    if node.level == 0:
        if not node.module or node.module.split(".")[0] != "nbannotate":
            return []
        base = node.module.split(".")[1:]
    else:
        here = module.split(".") if module != "__init__" else []
        package = here if is_package else here[:-1]
        base = package[: len(package) - (node.level - 1)] + (
            node.module.split(".") if node.module else []
        )
    if not base:  # the package itself (``from nbannotate import x``) or its modules
        return ([] if node.level else ["__init__"]) + [alias.name for alias in node.names]
    name = ".".join(base)
    return [name] + [f"{name}.{alias.name}" for alias in node.names]


def package_imports() -> dict[str, set[str]]:
    """Module -> the package modules it imports (module level and inside functions)."""
    modules = package_modules()
    graph: dict[str, set[str]] = {}
    for module, path in sorted(modules.items()):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.ImportFrom, ast.Import)):
                names = _imported(module, path.name == "__init__.py", node)
                if isinstance(node, ast.ImportFrom) and node.level and not node.module:
                    # ``from . import callbacks``: the submodule, not the package's __init__
                    names = [n for n in names[1:] if n in modules] or names[:1]
                deps.update(n for n in names if n in modules)
        graph[module] = deps - {module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_has_no_cycle() -> None:
    cycle = find_cycle(package_imports())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_import_points_down_the_flow() -> None:
    upward = [
        (m, d)
        for m, deps in package_imports().items()
        for d in sorted(deps)
        if layer_of(d) > layer_of(m) and (m, d) not in ALLOWED_UPWARD
    ]
    assert not upward, "imports running up the flow: " + ", ".join(f"{m} -> {d}" for m, d in upward)


def test_the_widget_never_imports_a_session() -> None:
    sessions = LAYERS[3][1]
    assert not package_imports()["widget"] & sessions


def test_subpackages_are_walked() -> None:
    graph = package_imports()
    assert {"store", "store.database", "store.engine", "data"} <= set(graph)
    assert "store.engine" in graph["store.database"] and "tasks" in graph["store.rows"]
    assert "store" in graph["recipes"]


def _importers(library: str) -> set[str]:
    importers = set()
    for module, path in package_modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            if any(n.split(".")[0] == library for n in names):
                importers.add(module)
    return importers


@pytest.mark.parametrize(
    "library, engine", [("duckdb", "store.duckdb_engine"), ("psycopg", "store.postgres_engine")]
)
def test_only_each_engine_imports_its_database_library(library, engine) -> None:
    """The dataset API talks to the Engine protocol: each engine is one module."""
    assert _importers(library) == {engine}


def test_the_checker_sees_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


if __name__ == "__main__":
    graph = package_imports()
    for module in sorted(graph, key=lambda m: (layer_of(m), m)):
        name = LAYERS[layer_of(module)][0]
        print(f"{name:9} {module:20} -> {', '.join(sorted(graph[module])) or '-'}")
    cycle = find_cycle(graph)
    print("no cycle" if cycle is None else "cycle: " + " -> ".join(cycle))
    sys.exit(0 if cycle is None else 1)
