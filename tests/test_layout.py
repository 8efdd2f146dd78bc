"""The package's import graph: no cycle, and every import points down the flow.

Run this file to see the graph: ``.venv/bin/python tests/test_layout.py`` prints each module's
layer and the package modules it imports (lazy imports inside functions included).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "nbannotate"

# Bottom to top; a module may import from its own layer or any layer below it.
LAYERS: list[tuple[str, set[str]]] = [
    ("bottom", {"errors", "checks", "jsonl", "sources", "tasks", "models", "sorters", "graphemes",
                "progress"}),
    ("stages", {"patterns", "candidates", "examples", "store", "precision", "questions"}),
    ("learning", {"updater", "checkpoint", "silver", "train"}),
    ("sessions", {"base_session", "session", "manual", "recipes"}),
    ("top", {"widget", "__init__"}),
]
# A session hands its display to its view (``_repr_mimebundle_``), as a model hands itself to
# its view in jupyter-scatter; the view never imports a session.
ALLOWED_UPWARD = {("base_session", "widget")}


def layer_of(module: str) -> int:
    for i, (_name, modules) in enumerate(LAYERS):
        if module in modules:
            return i
    raise AssertionError(
        f"nbannotate/{module}.py is in no layer: add it to LAYERS in tests/test_layout.py "
        f"and to the code layout table in README.md")


def package_imports() -> dict[str, set[str]]:
    """Module -> the package modules it imports (module level and inside functions)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1 and node.module:
                    deps.add(node.module.split(".")[0])
                elif node.level == 1:
                    deps.update(alias.name for alias in node.names)
                elif node.module and node.module.split(".")[0] == "nbannotate":
                    parts = node.module.split(".")
                    deps.add(parts[1] if len(parts) > 1 else "__init__")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] == "nbannotate" and len(parts) > 1:
                        deps.add(parts[1])
        graph[path.stem] = {d for d in deps if (PACKAGE / f"{d}.py").exists()} - {path.stem}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
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
    upward = [(m, d) for m, deps in package_imports().items() for d in sorted(deps)
              if layer_of(d) > layer_of(m) and (m, d) not in ALLOWED_UPWARD]
    assert not upward, "imports running up the flow: " + ", ".join(f"{m} -> {d}"
                                                                   for m, d in upward)


def test_the_widget_never_imports_a_session() -> None:
    sessions = LAYERS[3][1]
    assert not package_imports()["widget"] & sessions


def test_the_checker_sees_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


if __name__ == "__main__":
    graph = package_imports()
    for module in sorted(graph, key=lambda m: (layer_of(m), m)):
        name = LAYERS[layer_of(module)][0]
        print(f"{name:9} {module:13} -> {', '.join(sorted(graph[module])) or '-'}")
    cycle = find_cycle(graph)
    print("no cycle" if cycle is None else "cycle: " + " -> ".join(cycle))
    sys.exit(0 if cycle is None else 1)
