"""The package's structure: every import of a tokzoo module points to its own layer or a lower one, modalities
import no other modality, and no modules import each other in a circle (imports inside functions count; those
under ``if TYPE_CHECKING:`` do not run and do not)."""

import ast
from pathlib import Path

import tokzoo

ROOT = Path(tokzoo.__file__).parent
#: Lowest first. Framework layers know no model; modalities plug into them; the CLI and public API sit on top.
LAYERS = [
    {"core"},
    {"quant", "nn", "data", "metrics", "pretrained", "reduce"},
    # prior: models over Tokens on nn blocks, trained with train/'s state; bench reports its rates
    {"train", "bench", "prior"},
    {"image", "svg", "mesh", "text", "video", "cad", "points", "scenes"},
    {"cli", "__main__", "tokzoo"},
]
MODALITIES = LAYERS[3]


def _module(path: Path) -> str:
    parts = ["tokzoo", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        found = set()
        tree = ast.parse(path.read_text())
        typing_only = {
            id(n)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
            for n in ast.walk(block)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.split(".")[0] == "tokzoo"}
            elif (
                isinstance(node, ast.ImportFrom)
                and node.level == 0
                and (node.module or "").startswith("tokzoo")
            ):
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}  # `from pkg import module`
        graph[_module(path)] = found
    return {m: {i for i in imported if i in graph} for m, imported in graph.items()}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "tokzoo"


def _layer(module: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if _part(module) in names)


GRAPH = _imports()


def test_every_package_has_a_layer():
    assert {_part(m) for m in GRAPH} <= set().union(*LAYERS)


def test_imports_point_down():
    upward = sorted(f"{m} -> {i}" for m, imported in GRAPH.items() for i in imported if _layer(i) > _layer(m))
    assert not upward


def test_modalities_do_not_import_each_other():
    crossing = sorted(
        f"{m} -> {i}"
        for m, imported in GRAPH.items()
        for i in imported
        if _part(m) in MODALITIES and _part(i) in MODALITIES and _part(i) != _part(m)
    )
    assert not crossing


def test_no_import_circle():
    """Between modules, a package's ``__init__`` re-exporting its own submodules aside."""

    def edges(m: str) -> set[str]:
        return {i for i in GRAPH[m] if i != m and not (m.startswith(f"{i}.") or i.startswith(f"{m}."))}

    done: set[str] = set()
    for start in sorted(GRAPH):
        stack, on_path = [(start, iter(sorted(edges(start))))], [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop(), on_path.pop()
                done.add(node)
            elif child in on_path:
                raise AssertionError(" -> ".join([*on_path[on_path.index(child) :], child]))
            elif child not in done:
                stack.append((child, iter(sorted(edges(child)))))
                on_path.append(child)
