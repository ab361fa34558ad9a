"""The adversarial corpus: every hostile or careless input ends with its documented one-line error, within a
time and memory bound enforced on a child process (address-space cap and a kill after the timeout)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from make_corpus import build, case_names

RUNNER = Path(__file__).with_name("runner.py")
CASE_TIMEOUT_S = 10  # the limits' goal: any single input handled within ~10 s on 2 cores
MEMORY_MB = 1024  # address space each case may add to what the imports already hold


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    corpus = tmp_path_factory.mktemp("adversarial")
    build(corpus)
    out = corpus / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKZOO_LIMIT_")}  # the default limits
    env["OMP_NUM_THREADS"] = "1"
    cmd = [sys.executable, str(RUNNER), str(corpus), str(out), str(CASE_TIMEOUT_S), str(MEMORY_MB)]
    subprocess.run(cmd, check=True, timeout=240, env=env)
    return json.loads(out.read_text())


@pytest.mark.parametrize("name", case_names())
def test_case_ends_with_its_documented_error(results, name):
    case = results[name]
    assert case["seconds"] < CASE_TIMEOUT_S, f"{name}: killed after {case['seconds']:.1f} s"
    assert case["rc"] == 2, (
        f"{name}: exit code {case['rc']} ({'out of memory' if case['rc'] == 99 else case['stderr'][-500:]})"
    )
    err = case["stderr"]
    assert err.startswith("tokzoo: error: ") and err.count("\n") == 1, err
    assert re.search(case["expected"], err), f"{name}: {err!r} does not match {case['expected']!r}"
