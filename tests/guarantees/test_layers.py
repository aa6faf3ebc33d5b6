"""The package's layers (ARCHITECTURE.md): every import, at the top of a module or inside a
function, points to the module's own layer or one below it, and no two modules import each
other round in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

from support.helpers import REPO_ROOT

PACKAGE = REPO_ROOT / "ftjobs"
# Lowest first: a layer may import only from itself and the layers before it.
LAYERS = ("errors", "jsonio", "api", "store", "sync", "render", "cli")
TOP = {"__init__": len(LAYERS), "__main__": len(LAYERS)}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rank(module: str) -> int:
    first = module.split(".")[1] if "." in module else "__init__"
    return LAYERS.index(first) if first in LAYERS else TOP[first]


def imported(path: Path) -> set[str]:
    """Every ftjobs module the file imports, wherever the import stands."""
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("ftjobs."))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ftjobs."):
            for alias in node.names:  # a submodule by name, else a name of the module
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else str(node.module))
    return {name for name in found if name in modules and name != "ftjobs"}


def graph() -> dict[str, set[str]]:
    return {module_name(path): imported(path) for path in PACKAGE.rglob("*.py")}


def test_every_module_is_in_a_layer() -> None:
    for module in graph():
        assert rank(module) >= 0, module


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if rank(target) > rank(module)
    ]
    assert not upward, "\n".join(sorted(upward))


def test_no_module_imports_its_way_back_to_itself() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done
    circles: list[str] = []

    def walk(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                walk(target, [*path, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            walk(module, [module])
    assert not circles, "\n".join(circles)
