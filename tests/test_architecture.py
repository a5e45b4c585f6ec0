"""The package's shape: layers, import cycles, function-level imports, shared exceptions.

Layer order (design.md): data → metrics / nn → models → evaluation → benchmark / report → cli.
A module may import its own layer and the layers below it, never one above. The import graph
(module level and function level together, ``if TYPE_CHECKING:`` blocks excluded) has no cycles.
An import inside a function is allowed only where it keeps ``import fairx`` light: of a heavy
third-party library, or of a fairx module that imports one at module level.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import fairx

SRC = Path(fairx.__file__).parent
LAYERS = {  # first matching prefix wins
    "fairx._version": 0, "fairx.exceptions": 0, "fairx._io": 0, "fairx.progress": 0,
    "fairx.data": 1,
    "fairx.metrics": 2, "fairx.nn": 2,
    "fairx.models": 3,
    "fairx.evaluation": 4, "fairx.protocol": 4,
    "fairx.benchmark": 5, "fairx.report": 5,
    "fairx.cli": 6,
    "fairx": 7,  # the package root re-exports the public API
}


@dataclass(frozen=True)
class Import:
    source: str   # importing module
    target: str   # imported module (fairx module, or a third-party top-level name)
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str) -> list[Import]:
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                out.extend(Import(name, a.name, child.lineno, in_function) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                subs = [f"{target}.{a.name}" for a in child.names if f"{target}.{a.name}" in MODULES]
                out.extend(Import(name, t, child.lineno, in_function) for t in subs or [target])
            else:
                visit(child, in_function or isinstance(child, (ast.FunctionDef,
                                                                ast.AsyncFunctionDef)))

    visit(ast.parse(path.read_text()), False)
    return out


ALL = [imp for name in MODULES for imp in _imports(name)]
INTERNAL = [imp for imp in ALL if imp.target == "fairx" or imp.target.startswith("fairx.")]


def _layer(module: str) -> int:
    return next(v for k, v in LAYERS.items() if module == k or module.startswith(k + "."))


def _fairx_target(target: str) -> str:
    """The module an import resolves to (``fairx.data.TabularDataset`` → ``fairx.data``)."""
    while target not in MODULES:
        target = target.rsplit(".", 1)[0]
    return target


def test_the_walker_sees_the_package():
    assert {"fairx.data", "fairx.models.base", "fairx.evaluation.protocol", "fairx.cli"} <= set(MODULES)
    # a planted upward import and a planted cycle are found by the same functions
    assert _layer("fairx.nn._ddpm") < _layer("fairx.models.fair_latent.fldgm")
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_upward_imports():
    bad = [f"{i.source}:{i.line} imports {i.target}" for i in INTERNAL
           if _layer(i.source) < _layer(_fairx_target(i.target))]
    assert not bad, "imports from a higher layer:\n" + "\n".join(bad)


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := dfs(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := dfs(node)):
            return found
    return None


def test_no_import_cycles():
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for i in INTERNAL:
        target = _fairx_target(i.target)
        if target != i.source:
            graph[i.source].add(target)
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


#: optional extras: imported where used because they may be absent
OPTIONAL = {"shap", "dask", "distributed", "xgboost", "pyarrow"}


def _loaded_by_import_fairx() -> set[str]:
    """Every module a fresh ``import fairx`` loads."""
    import json
    import subprocess
    import sys

    code = "import sys, json, fairx; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def _has_reason(lines: list[str], line: int) -> bool:
    """A comment on the import's line, or above the block of imports it belongs to."""
    if "#" in lines[line - 1]:
        return True
    j = line - 2
    while j >= 0:
        text = lines[j].strip()
        if "#" in text:
            return True
        if not (text.startswith(("from ", "import ")) or text.endswith(",") or text == ")"
                or text == "try:"):
            return False
        j -= 1
    return False


def _heavy_modules(loaded: set[str]) -> set[str]:
    """fairx modules whose module-level imports (transitively) load a third-party module that
    ``import fairx`` does not: importing them inside a function is what keeps ``import fairx``
    light."""
    def new_third_party(target: str) -> bool:
        return target.split(".")[0] in OPTIONAL or target not in loaded

    heavy = {i.source for i in ALL if not i.in_function and i not in INTERNAL
             and new_third_party(i.target)}
    edges = {(i.source, _fairx_target(i.target)) for i in INTERNAL if not i.in_function}
    changed = True
    while changed:
        changed = False
        for src, dst in edges:
            if dst in heavy and src not in heavy:
                heavy.add(src)
                changed = True
    return heavy


def test_function_level_imports_keep_import_fairx_light_and_say_why():
    """An import inside a function is allowed only when it keeps ``import fairx`` light: the
    imported module, or what it imports in turn, is a third-party module that ``import fairx``
    does not load (or an optional extra). And it says why."""
    loaded = _loaded_by_import_fairx()
    heavy = _heavy_modules(loaded)
    needless, silent = [], []
    for i in ALL:
        if not i.in_function:
            continue
        if i in INTERNAL:
            keeps_light = _fairx_target(i.target) in heavy
        else:
            keeps_light = i.target.split(".")[0] in OPTIONAL or i.target not in loaded
        if not keeps_light:
            needless.append(f"{i.source}:{i.line} imports {i.target} (nothing heavy that "
                            "`import fairx` does not load already)")
        elif not _has_reason(MODULES[i.source].read_text().splitlines(), i.line):
            silent.append(f"{i.source}:{i.line} imports {i.target} without a reason comment")
    assert not needless, "move these imports to the top of their module:\n" + "\n".join(needless)
    assert not silent, "say why each function-level import is there:\n" + "\n".join(silent)


def test_import_fairx_stays_light():
    import subprocess
    import sys

    code = ("import sys, fairx; heavy = sorted(m for m in ('torch', 'shap', 'dask', 'matplotlib')"
            " if m in sys.modules); print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_one_not_fitted_error_like_scikit_learns():
    from fairx.exceptions import NotFittedError
    from fairx.models import NotFittedError as exported
    from fairx.models import get
    from fairx.nn import LatentDDPM

    assert exported is NotFittedError
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    with pytest.raises(NotFittedError, match="not fitted"):
        get("fairdisco").sample(3, seed=0)
    with pytest.raises(NotFittedError, match="not fitted"):
        LatentDDPM().sample(3, seed=0)


def test_old_import_paths_for_users():
    from fairx.evaluation.protocol import evaluate_method
    from fairx.protocol import evaluate_method as old

    assert old is evaluate_method
