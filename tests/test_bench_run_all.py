"""`make bench` (benchmarks/run_all.py) runs every script with no arguments beyond its --quick flags, so a
script that requires arguments must be listed as needing inputs, or `make bench` fails on it."""

import ast
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import run_all  # noqa: E402


def _requires_arguments(script: Path) -> bool:
    """Whether the script's argparse declares a positional or ``required=True`` argument."""
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument":
            first = node.args[0] if node.args else None
            positional = isinstance(first, ast.Constant) and not str(first.value).startswith("-")
            required = any(
                k.arg == "required" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in node.keywords
            )
            if positional or required:
                return True
    return False


def test_every_script_that_needs_arguments_is_skipped_by_make_bench():
    scripts = [p for p in BENCH.glob("*.py") if p.name != "run_all.py" and p.name not in run_all.HELPERS]
    needing = {p.name for p in scripts if _requires_arguments(p)}
    assert needing, "the check found no script with required arguments: it no longer reads argparse calls"
    assert needing <= set(run_all.NEEDS_INPUTS), needing - set(run_all.NEEDS_INPUTS)
    assert set(run_all.NEEDS_INPUTS) <= {p.name for p in scripts}, "a listed script no longer exists"
