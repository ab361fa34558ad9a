"""Codebook state stays identical across ranks (2 CPU processes, gloo) and nothing hangs."""

import os
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
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)  # a hang fails here
    assert proc.returncode == 0, proc.stderr[-3000:]
    a, b = load_file(tmp_path / "rank0.safetensors"), load_file(tmp_path / "rank1.safetensors")
    assert a.keys() == b.keys() and a
    for key in a:
        assert torch.equal(a[key], b[key]), key
