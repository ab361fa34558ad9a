"""Run every case of an adversarial corpus in its own child process, bounded in memory and time.

``python tests/adversarial/runner.py CORPUS RESULTS TIMEOUT_S MEMORY_MB``: imports tokzoo once, then forks one
child per case of ``CORPUS/manifest.json``. Each child caps its address space (``RLIMIT_AS``) at its size after
the imports plus ``MEMORY_MB``, runs ``tokzoo.cli.main(argv)`` with stderr captured, and is killed after
``TIMEOUT_S`` seconds. ``RESULTS`` gets one JSON entry per case: exit code, stderr, seconds, peak RSS growth.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path


def _vm_size() -> int:
    """This process's virtual memory size in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def _child(argv: list[str], err_path: str, memory: int) -> None:
    from tokzoo.cli import main

    fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 2)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    cap = _vm_size() + memory
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        code = main(argv)
    except MemoryError:
        code = 99
    except BaseException as e:  # a crash: the test reports it
        print(f"CRASH {type(e).__name__}: {e}", file=sys.stderr)
        code = 98
    sys.stderr.flush()
    os._exit(code)


def run_case(argv: list[str], timeout: float, memory: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".err", delete=False) as f:
        err_path = f.name
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        _child(argv, err_path, memory)
    status, usage = 0, None
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() - start > timeout:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            break
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    stderr = Path(err_path).read_text(errors="replace")
    os.unlink(err_path)
    code = os.waitstatus_to_exitcode(status)
    return {
        "argv": argv,
        "rc": code,
        "stderr": stderr,
        "seconds": seconds,
        "max_rss_mb": usage.ru_maxrss / 1024,
    }


def main() -> None:
    corpus, results, timeout, memory_mb = (
        Path(sys.argv[1]),
        Path(sys.argv[2]),
        float(sys.argv[3]),
        int(sys.argv[4]),
    )
    import torch

    torch.set_num_threads(1)
    import PIL.Image  # noqa: F401  (warm every reader's imports before forking)
    import svgelements  # noqa: F401
    import trimesh  # noqa: F401

    import tokzoo
    import tokzoo.cli

    image_model = corpus / "image_model"
    tokzoo.create("vq-f8-s", ch=8, codebook_size=64).save_pretrained(image_model)
    tokzoo.create("svg-hivg-128"), tokzoo.create("mesh-amt-q7")  # registry imported
    out = {}
    for case in json.loads((corpus / "manifest.json").read_text()):
        argv = [a.replace("{image_model}", str(image_model)) for a in case["argv"]]
        out[case["name"]] = {**run_case(argv, timeout, memory_mb * 2**20), "expected": case["expected"]}
    results.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
