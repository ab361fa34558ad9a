"""A 2-process CPU (gloo) training run under torchrun finishes without hanging."""

import os
import socket
import subprocess
import sys

import pytest

import tokzoo


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(600)
def test_torchrun_two_processes(tmp_path):
    out = tmp_path / "ddp"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={_free_port()}",
        "-m", "tokzoo", "train", "model_overrides={ch: 8, z_channels: 16, code_dim: 8, codebook_size: 64}",
        "image_size=32", "batch_size=2", "max_steps=6", "ckpt_every=3", "log_every=1", "progress=false",
        f"out_dir={out}",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [p.name for p in sorted((out / "checkpoints").iterdir())] == ["step_00000003", "step_00000006"]
    assert tokzoo.load(out / "model").cfg.codebook_size == 64
    at = cmd.index("train") + 1
    resumed = subprocess.run(
        [*cmd[:at], "--resume", *cmd[at:], "max_steps=8"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (out / "checkpoints" / "step_00000008").is_dir()
