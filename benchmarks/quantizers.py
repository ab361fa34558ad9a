"""Quantizers against the peer library vector-quantize-pytorch, and codebook usage on real patches.

Part 1 (results/quantizers.csv): forward+backward time (median, one process, same inputs, 2 threads,
16 x 256 tokens; tokzoo and peer steps alternate, so load from other processes hits both alike; with
--threads 1 the calling thread's CPU time is timed instead, which that load does not inflate) and peak memory (one subprocess per case: ru_maxrss minus a baseline taken after imports,
module construction and input creation; the child runs under an address-space cap and a case that exceeds
it is reported as "killed (memory)"). The peer is optional: without it its rows are skipped with a note.
Install it for the benchmark only (it is not a tokzoo dependency):

    .venv/bin/pip install vector-quantize-pytorch==1.32.0

Part 2 (results/quantizer_usage.csv): codebook usage and perplexity of VQ (plain; k-means init + dead-code
restarts), FSQ and LFQ trained a few hundred Adam steps to reconstruct 8x8x3 patches of the bundled photos.

python benchmarks/quantizers.py                      ->  both parts
python benchmarks/quantizers.py --part speed|usage   ->  one part
python benchmarks/quantizers.py --usage-codes 8192 16384
python benchmarks/quantizers.py --part speed --cases vq_8192 fsq_8x8x8x5x5x5   ->  some speed cases
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from common import write_results
from tokzoo.quant import build_quantizer, codebook_stats

THREADS = 2
BATCH, TOKENS = 16, 256
MEMORY_CAP_GIB = 12
FSQ_LEVELS = [8, 8, 8, 5, 5, 5]
REPEATS = 7
FAST_REPEATS = 41  # for steps under FAST_S: more samples against scheduler noise
FAST_S = 0.05
SLOW_S = 2.0

# case -> input dim
CASES: dict[str, int] = {
    "vq_8192": 256,
    "fsq_8x8x8x5x5x5": 256,
    "lfq_2^14": 14,
    "lfq_2^16": 16,
    "lfq_2^18": 18,
    "lfq_2^24": 24,
    "gq_2^16": 16,
    "gq_2^18": 18,
    "gq_2^24": 24,
}
NO_PEER = {"lfq_2^24"}  # the peer's LFQ materialises tokens x 2**bits: hopeless at 2^24
PEER_OF = {"gq_2^16": "lfq_2^16", "gq_2^18": "lfq_2^18", "gq_2^24": "lfq_2^24"}  # GQ compared to peer LFQ


def peer_available() -> bool:
    try:
        import vector_quantize_pytorch  # noqa: F401
    except ImportError:
        return False
    return True


def build(case: str, impl: str) -> torch.nn.Module:
    torch.manual_seed(0)
    kind, _, size = case.partition("_")
    bits = int(size.split("^")[1]) if "^" in size else 0
    if impl == "tokzoo":
        if kind == "vq":
            return build_quantizer("vq", 256, codebook_size=8192, code_dim=32, normalize=False)
        if kind == "fsq":
            return build_quantizer("fsq", 256, levels=FSQ_LEVELS)
        return build_quantizer(kind, bits, bits=bits, entropy_weight=0.1)
    from vector_quantize_pytorch import FSQ, LFQ, VectorQuantize

    if kind == "vq":
        return VectorQuantize(dim=256, codebook_size=8192, codebook_dim=32)
    if kind == "fsq":
        return FSQ(levels=FSQ_LEVELS, dim=256)
    return LFQ(dim=bits, codebook_size=2**bits, entropy_loss_weight=0.1)


def make_input(case: str) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.randn(BATCH, TOKENS, CASES[case], generator=g)


def step_fn(module: torch.nn.Module, impl: str, z: torch.Tensor):
    """One forward+backward; the loss is the mean square of the output plus the quantizer's own loss."""

    def step() -> None:
        x = z.detach().requires_grad_(True)
        if impl == "tokzoo":
            out = module(x)
            latents, aux = out.latents, out.loss
        else:
            res = module(x)
            latents = res[0]
            aux = res[2] if len(res) > 2 else latents.new_zeros(())
        (latents.square().mean() + aux.sum()).backward()
        module.zero_grad(set_to_none=True)

    return step


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def _vm_bytes() -> int:
    return _status_kib("VmSize") * 1024


def child(case: str, impl: str) -> None:
    """Measure one case's peak memory in this fresh process; print one JSON line."""
    torch.set_num_threads(THREADS)
    module = build(case, impl).train()
    z = make_input(case)
    step = step_fn(module, impl, z)
    # Reset the kernel's peak-RSS mark (VmHWM) so transients of imports and construction do not hide a
    # small step; where that is not possible fall back to ru_maxrss, which cannot be reset.
    try:
        Path("/proc/self/clear_refs").write_text("5")
        baseline, peak_of = _status_kib("VmRSS"), lambda: _status_kib("VmHWM")
    except OSError:
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        peak_of = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # noqa: E731
    cap = _vm_bytes() + MEMORY_CAP_GIB * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        step()
    except (MemoryError, RuntimeError) as e:  # torch reports a failed allocation as RuntimeError
        if isinstance(e, MemoryError) or "alloc" in str(e).lower() or "memory" in str(e).lower():
            print(json.dumps({"killed": True}))
            return
        raise
    peak = peak_of()
    print(json.dumps({"killed": False, "peak_rss_mib": (peak - baseline) / 1024}))


def measure_memory(case: str, impl: str) -> dict:
    cmd = [sys.executable, __file__, "--child", case, impl]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if r.returncode == 0 and lines:
        return json.loads(lines[-1])
    if r.returncode < 0 or "memory" in r.stderr.lower() or "alloc" in r.stderr.lower():
        return {"killed": True}  # e.g. SIGKILL from the kernel, or an allocation failure outside the try
    raise RuntimeError(f"child {case}/{impl} failed (rc {r.returncode}):\n{r.stderr[-2000:]}")


def time_steps(
    steps: dict[str, Callable[[], None]], clock: Callable[[], float] = time.perf_counter
) -> dict[str, tuple[float, float]]:
    """(median, min) seconds per step of each implementation, timed in alternation (round robin) after one
    warmup step each; a step slower than SLOW_S is not repeated and its one time is reported as both."""
    first = {}
    for impl, step in steps.items():
        t = clock()
        step()
        first[impl] = clock() - t
    fast = [impl for impl in steps if first[impl] <= SLOW_S]
    repeats = FAST_REPEATS if all(first[i] < FAST_S for i in fast) else REPEATS
    times: dict[str, list[float]] = {impl: [] for impl in fast}
    for _ in range(repeats if fast else 0):
        for impl in fast:
            t = clock()
            steps[impl]()
            times[impl].append(clock() - t)
    return {
        impl: (statistics.median(times[impl]), min(times[impl]))
        if impl in fast
        else (first[impl], first[impl])
        for impl in steps
    }


def speed_part(cases: list[str], threads: int = THREADS) -> None:
    torch.set_num_threads(threads)
    have_peer = peer_available()
    if not have_peer:
        print("note: vector-quantize-pytorch is not installed; peer rows are skipped "
              "(.venv/bin/pip install vector-quantize-pytorch==1.32.0)")  # fmt: skip
    results: dict[tuple[str, str], dict] = {}
    for case in cases:
        impls = ["tokzoo"]
        if have_peer and case not in NO_PEER and case not in PEER_OF:
            impls.append("peer")
        memory = {impl: measure_memory(case, impl) for impl in impls}
        runnable = [impl for impl in impls if not memory[impl]["killed"]]
        modules = {impl: build(case, impl).train() for impl in runnable}
        # One thread computes on the calling thread, so its CPU time (which other processes' load does not
        # inflate) is the step's cost; with more threads only wall time sees the workers.
        clock = time.thread_time if threads == 1 else time.perf_counter
        seconds = time_steps(
            {impl: step_fn(modules[impl], impl, make_input(case)) for impl in runnable}, clock
        )
        del modules
        for impl in impls:
            if memory[impl]["killed"]:
                row = {"median_ms": float("nan"), "min_ms": float("nan"), "peak_rss_mib": float("nan"),
                       "note": f"killed (memory > {MEMORY_CAP_GIB} GiB)"}  # fmt: skip
            else:
                row = {
                    "median_ms": seconds[impl][0] * 1e3,
                    "min_ms": seconds[impl][1] * 1e3,
                    "peak_rss_mib": memory[impl]["peak_rss_mib"],
                    "note": "",
                }
            results[case, impl] = row
            print(f"  {case:>16} {impl:>6}: {row}", flush=True)

    rows = []
    for (case, impl), r in results.items():
        time_ratio = mem_ratio = float("nan")
        note = r["note"]
        if impl == "tokzoo":
            peer = results.get((PEER_OF.get(case, case), "peer"))
            if peer is None:
                note = note or ("peer not installed" if not have_peer else "no peer run")
            elif peer["note"]:
                note = note or f"peer {peer['note']}"
            else:
                time_ratio = peer["median_ms"] / r["median_ms"]
                mem_ratio = peer["peak_rss_mib"] / max(r["peak_rss_mib"], 0.1)
            if case in PEER_OF:
                note = (note + "; " if note else "") + "vs peer LFQ"
        rows.append({
            "case": case, "impl": impl, "median_ms": r["median_ms"], "min_ms": r["min_ms"],
            "peak_rss_mib": r["peak_rss_mib"],
            "time_ratio_peer_over_tokzoo": time_ratio, "mem_ratio_peer_over_tokzoo": mem_ratio,
            "note": note,
        })  # fmt: skip
    write_results("quantizers", rows)


# ---------------------------------------------------------------- part 2: codebook usage on real patches

PATCH = 8
N_PATCHES = 40_000
STEPS = 300
MINIBATCH = 4096
INIT_BATCH = 16_384  # the first step sees a large batch so k-means has more rows than codes
LATENT = 32


def patch_dataset(n: int = N_PATCHES, seed: int = 0) -> torch.Tensor:
    """``n`` random 8x8x3 patches (192 dims, normalised per feature) of the bundled train photos at
    scales 1 and 1/2."""
    from tokzoo.data import bundled_images

    g = torch.Generator().manual_seed(seed)
    images = []
    for _, img in bundled_images("train"):
        x = torch.from_numpy(img).permute(2, 0, 1).float()[None] / 255.0
        images += [x, F.avg_pool2d(x, 2)]
    per = math.ceil(n / len(images))
    out = []
    for x in images:
        h, w = x.shape[-2:]
        unfold = F.unfold(x, PATCH, stride=1)[0].t()  # every patch position: (positions, 192)
        idx = torch.randint(0, (h - PATCH + 1) * (w - PATCH + 1), (per,), generator=g)
        out.append(unfold[idx])
        del unfold
    data = torch.cat(out)[torch.randperm(len(out) * per, generator=g)[:n]]
    return (data - data.mean(0)) / data.std(0).clamp_min(1e-6)


def usage_methods(codes: int) -> dict[str, dict]:
    bits = int(math.log2(codes))
    levels = {8192: [8, 8, 8, 4, 4], 16384: [8, 8, 8, 8, 4]}[codes]
    return {
        "vq_plain": {"name": "vq", "codebook_size": codes, "normalize": False, "restart_decay": 0.0},
        "vq_kmeans_restart": {"name": "vq", "codebook_size": codes, "normalize": False, "kmeans_init": True},
        "fsq": {"name": "fsq", "levels": levels},
        "lfq": {"name": "lfq", "bits": bits, "entropy_weight": 0.1},
    }


def train_usage(data: torch.Tensor, options: dict, seed: int = 0) -> dict:
    torch.manual_seed(seed)
    options = dict(options)
    quant = build_quantizer(options.pop("name"), LATENT, **options)
    enc = torch.nn.Linear(data.shape[1], LATENT)
    dec = torch.nn.Linear(LATENT, data.shape[1])
    params = [*enc.parameters(), *dec.parameters(), *quant.parameters()]
    opt = torch.optim.Adam([p for p in params if p.requires_grad], lr=2e-3)
    g = torch.Generator().manual_seed(seed)
    quant.train()
    t0 = time.perf_counter()
    for step in range(STEPS):
        size = INIT_BATCH if step == 0 else MINIBATCH
        x = data[torch.randint(0, data.shape[0], (size,), generator=g)]
        out = quant(enc(x))
        recon = F.mse_loss(dec(out.latents), x)
        opt.zero_grad(set_to_none=True)
        (recon + out.loss).backward()
        opt.step()
    train_s = time.perf_counter() - t0
    quant.eval()
    with torch.no_grad():
        ids, mse = [], 0.0
        for chunk in data.split(8192):
            out = quant(enc(chunk))
            ids.append(out.ids.reshape(-1))
            mse += F.mse_loss(dec(out.latents), chunk, reduction="sum").item()
        stats = codebook_stats(torch.cat(ids), quant.codebook_size)
    return {
        "usage": stats["usage"].item(), "perplexity": stats["perplexity"].item(),
        "recon_mse": mse / data.numel(), "train_s": train_s,
    }  # fmt: skip


def usage_part(sizes: tuple[int, ...] = (8192,)) -> None:
    torch.set_num_threads(THREADS)
    data = patch_dataset()
    print(f"  {data.shape[0]} patches x {data.shape[1]} dims", flush=True)
    rows = []
    for codes in sizes:
        for method, options in usage_methods(codes).items():
            r = train_usage(data, options)
            rows.append({"codes": codes, "method": method, **r})
            print(f"  {codes:>6} {method:>18}: {r}", flush=True)
    write_results("quantizer_usage", rows)
    alive = {(r["codes"], r["method"]): r["usage"] for r in rows}
    for codes in sizes:
        plain, fixed = alive[codes, "vq_plain"], alive[codes, "vq_kmeans_restart"]
        verdict = "met" if fixed >= 0.9 else "NOT met"
        print(f"target (k-means + restarts keep >= 90% alive) at {codes} codes: {verdict} "
              f"({fixed:.1%} vs plain VQ {plain:.1%})")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--part", choices=["speed", "usage", "all"], default="all")
    p.add_argument("--usage-codes", type=int, nargs="+", default=[8192], choices=[8192, 16384],
                   help="codebook sizes of the usage part (16384 adds about 2.5 minutes)")  # fmt: skip
    p.add_argument("--threads", type=int, default=THREADS, help="torch threads of the speed part (default 2)")
    p.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES), help="speed cases to run")
    p.add_argument("--child", nargs=2, metavar=("CASE", "IMPL"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(*args.child)
        return
    t0 = time.perf_counter()
    if args.part in ("speed", "all"):
        speed_part(args.cases, args.threads)
    if args.part in ("usage", "all"):
        usage_part(tuple(args.usage_codes))
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
