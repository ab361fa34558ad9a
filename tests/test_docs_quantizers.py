"""Every Python example in docs/quantizers.md runs as written."""

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "quantizers.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_doc_has_examples():
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_example_runs(index):
    namespace: dict = {}
    exec(compile("\n".join(BLOCKS[: index + 1]), f"docs/quantizers.md[{index}]", "exec"), namespace)
