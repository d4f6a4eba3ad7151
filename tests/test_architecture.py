"""The package's layers import one way: loaders → model → analysis → render → cli.

Every import is read from the source with `ast`, including imports inside functions, so a lazy import cannot
hide a dependency that points the wrong way.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "impact"

#: Layer → the layers it must never import.
FORBIDDEN = {
    "impact.loaders": ("impact.analysis", "impact.render", "impact.cli"),
    "impact.model": ("impact.analysis", "impact.render", "impact.cli", "impact.loaders"),
    "impact.analysis": ("impact.render", "impact.cli"),
    "impact.render": ("impact.cli",),
}


def module_name(path: Path) -> str:
    """`impact/analysis/why.py` → `impact.analysis.why`."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, package: str) -> set[str]:
    """Every module `source` (a module of `package`) imports, at any depth, as absolute dotted names."""
    tree = ast.parse(source)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def layer_of(module: str) -> str | None:
    """The layer a module belongs to, or None for modules outside the layered ones (api, errors, nix…)."""
    return next((layer for layer in FORBIDDEN if module == layer or module.startswith(layer + ".")), None)


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_the_walk_sees_every_layer() -> None:
    """The test would pass vacuously if it found no modules of a layer."""
    layers = {layer_of(module_name(p)) for p in SOURCES}
    assert set(FORBIDDEN) <= layers


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_imports_point_one_way(path: Path) -> None:
    layer = layer_of(module_name(path))
    if layer is None:
        return
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    wrong = sorted(
        m
        for m in imported_modules(path.read_text(encoding="utf-8"), package)
        if any(m == f or m.startswith(f + ".") for f in FORBIDDEN[layer])
    )
    assert not wrong, f"{module_name(path)} ({layer}) imports {wrong}"


def test_a_lazy_relative_import_is_caught() -> None:
    """The walker resolves relative imports and finds them inside function bodies."""
    source = "def f():\n    from ..render import frames\n    return frames\n"
    assert "impact.render.frames" in imported_modules(source, "impact.analysis")
    assert "impact.render" in imported_modules("import impact.render\n", "impact.analysis")


def module_graph() -> dict[str, set[str]]:
    """Module → the impact modules it imports (lazy ones included); `from package import name` points at the
    module `package.name` when there is one, else at the package."""
    modules = {module_name(p) for p in SOURCES}
    graph: dict[str, set[str]] = {}
    for path in SOURCES:
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets: set[str] = set()
        for imported in imported_modules(path.read_text(encoding="utf-8"), package):
            while imported and imported not in modules:
                imported = imported.rsplit(".", 1)[0] if "." in imported else ""
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def test_no_import_circles() -> None:
    """No two modules import each other, directly or through others (issue 23: the circles evaluate ↔
    loaders.merge and loaders ↔ snapshots are gone, and none may come back)."""
    import networkx as nx

    g = nx.DiGraph()
    for name, targets in module_graph().items():
        g.add_node(name)
        for t in targets:
            if not name.startswith(t + ".") and not t.startswith(name + "."):  # a package and its own modules
                g.add_edge(name, t)
    circles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert circles == [], circles
