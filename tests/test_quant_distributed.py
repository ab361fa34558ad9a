"""Codebook state stays identical across ranks (2 CPU processes, gloo) and nothing hangs."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

WORKER = Path(__file__).with_name("dist_quant_worker.py")
CASES = {
    "vq-ema-kmeans-restart": (
        "vq",
        "dict(codebook_size=64, code_dim=8, normalize=False, ema=True, kmeans_init=True, restart_threshold=0.5)",
    ),
    "vq-kmeans-rotation": (
        "vq",
        "dict(codebook_size=64, kmeans_init=True, grad='rotation', restart_threshold=0.5)",
    ),
    "fsq": ("fsq", "dict(levels=(8, 5, 5))"),
    "lfq": ("lfq", "dict(bits=10, entropy_weight=0.1)"),
    "gq": ("gq", "dict(bits=12, groups=2, entropy_weight=0.1)"),
    "bsq": ("bsq", "dict(bits=10, entropy_weight=0.1)"),
    "rvq": ("rvq", "dict(num_quantizers=3, codebook_size=32, kmeans_init=True, restart_threshold=0.5)"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", sorted(CASES))
def test_codebooks_identical_on_both_ranks(case, tmp_path):
    name, options = CASES[case]
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={_free_port()}",
        str(WORKER), str(tmp_path), name, options,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # A hang fails here (alone this takes ~10 s). The workers run in their own session so that a timeout kills
    # them too: killing only torchrun once left a worker blocked in a collective for good.
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    try:
        _, stderr = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        pytest.fail(f"{case}: the 2-rank run did not finish in 240 s (hang?)\n{stderr[-3000:]}")
    assert proc.returncode == 0, stderr[-3000:]
    a, b = load_file(tmp_path / "rank0.safetensors"), load_file(tmp_path / "rank1.safetensors")
    assert a.keys() == b.keys() and a
    for key in a:
        assert torch.equal(a[key], b[key]), key
