"""Mesh token streams entropy-coded vs Draco, per serialization, in bits per face at 8-bit quantisation.

python benchmarks/priors_mesh.py [--quick] [--serializations nautilus amt bpt naive] [--prior-steps 300]
  -> results/priors_mesh.csv

homedecor meshes (``tokzoo.mesh.data.mesh_files``): every 5th file held out (30 of 146), the rest train the
models. Every rate is over the held-out meshes, divided by their quantized face count:

- ``fixed``: ``Tokens.nbits()`` (ceil(log2 vocab) bits per token);
- ``static`` / ``adaptive``: arithmetic codes under a unigram model fitted on the training tokens (+1 counts)
  / adapted on the fly over the whole held-out batch;
- ``prior``: under an AR prior trained on 512-token windows of the training sequences (restarted every
  512 tokens when coding, as it was trained);
- ``context``: under :class:`tokzoo.mesh.context_model.MeshContextModel` fitted on the training meshes,
  each held-out mesh coded on its own (a fresh copy of the fitted statistics, like one Draco file per mesh);
  every mesh is decoded again and checked equal (``round_trips``);
- ``mixture``: context model and prior mixed symbol by symbol (fixed-share weights);
- ``draco``: DracoPy (Google Draco) at ``quantization_bits=8, compression_level=10``, one file per mesh.

Coded rates are payload bits (the arithmetic code), as in the other prior benchmarks.
``context_file_per_mesh`` is the size of real ``.tokc`` files, one per mesh, each with its version-2 binary
header (about 40 bytes: the container's overhead, not the model's); ``context_file_with_placement`` adds what
Draco also stores, each mesh's origin and scale (in the header's JSON meta), so the file alone puts the mesh
back in its units. Held-out files are decoded with the fitted model saved to disk and loaded back
(``context_model_bytes``: its size, shared by every file like a codec's tables).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from common import write_results
from tokzoo.core.tokens import Tokens
from tokzoo.prior.ar import ARPrior
from tokzoo.prior.config import PriorConfig
from tokzoo.prior.container import compress, decompress
from tokzoo.prior.layout import to_sequence
from tokzoo.prior.mixing import MixtureCodingModel, WindowedModel
from tokzoo.prior.prior_coding import PriorCodingModel
from tokzoo.prior.train import PriorTrainConfig, train_prior
from tokzoo.prior.unigram import AdaptiveUnigram, StaticUnigram, token_counts

WINDOW = 512
BITS = 8


def _batch(seqs: list[np.ndarray], vocab: int, width: int | None = None) -> Tokens:
    """Right-padded ``seq1d`` tokens, one row per sequence."""
    width = width or max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), width), dtype=torch.int64)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.as_tensor(s)
    return Tokens(ids, torch.tensor([len(s) for s in seqs]), vocab, "seq1d", (width,) if width else ())


def _windows(seqs: list[np.ndarray], vocab: int) -> Tokens:
    cut = [s[i : i + WINDOW] for s in seqs for i in range(0, len(s), WINDOW)]
    return _batch(cut, vocab, WINDOW)


def _prior(train: Tokens, steps: int, out) -> ARPrior:
    cfg = PriorConfig.for_tokens(train, dim=128, depth=4, heads=4)
    ids, lengths = to_sequence(train, cfg.sequence)
    torch.manual_seed(0)
    prior = ARPrior(cfg)
    train_prior(prior, ids, lengths, out, PriorTrainConfig(steps=steps, batch_size=16, lr=1e-3, warmup=50))
    return prior.eval()


def _meshes(tok, paths) -> tuple[list[np.ndarray], int, int, list[dict]]:
    """Token sequences, quantized faces, Draco bytes and placements (the ``meta`` that maps each mesh's grid
    back to its units: origin and scale at float32's 7 significant digits, as Draco stores them) at ``paths``."""
    import DracoPy

    from tokzoo.mesh import read_mesh

    seqs, faces, draco, placements = [], 0, 0, []
    for p in paths:
        raw = read_mesh(p)
        mesh, _ = tok.quantize(raw)
        seqs.append(tok.serialization.encode(mesh))
        faces += mesh.num_faces
        draco += len(DracoPy.encode(raw.vertices, raw.faces, quantization_bits=BITS, compression_level=10))
        origin = [float(f"{c:.7g}") for c in mesh.origin]
        placements.append({"origins": [origin], "scales": [float(f"{mesh.scale:.7g}")]})
    return seqs, faces, draco, placements


def _context_rates(model, seqs: list[np.ndarray], vocab: int, placements: list[dict], folder) -> dict:
    """Payload bits and bytes of one ``.tokc`` file per mesh (ids only, and with the placement in the header's
    meta), decoded by the model saved to and loaded from ``folder``: how many decode back exactly."""
    model.save(folder)
    loaded = type(model).load(folder)
    payload, per_mesh, placed, ok = 0, 0, 0, 0
    for s, meta in zip(seqs, placements, strict=True):
        one = _batch([s], vocab)
        data, bits = compress(one, model)
        payload += bits
        per_mesh += len(data)
        with_meta = Tokens(one.ids, one.lengths, vocab, "seq1d", one.shape, meta)
        placed_data = compress(with_meta, model)[0]
        placed += len(placed_data)
        ok += decompress(data, loaded).equal(one) and decompress(placed_data, loaded).meta == meta
    saved = sum(f.stat().st_size for f in folder.iterdir())
    return {"payload_bits": payload, "per_mesh_bytes": per_mesh, "placed_bytes": placed, "round_trips": ok,
            "model_bytes": saved}  # fmt: skip


def run(args: argparse.Namespace) -> list[dict]:
    import tokzoo
    from tokzoo.mesh.context_model import MeshContextModel
    from tokzoo.mesh.data import mesh_files

    files = mesh_files("homedecor")
    test_files, train_files = files[::5], [f for i, f in enumerate(files) if i % 5]
    if args.quick:
        test_files, train_files = test_files[:3], train_files[:8]
    rows = []
    for name in args.serializations:
        t0 = time.perf_counter()
        tok = tokzoo.create(f"mesh-{name}-q7", bits=BITS)
        v = tok.vocab_size
        train, _, _, _ = _meshes(tok, train_files)
        test, faces, draco, placements = _meshes(tok, test_files)
        test_batch = _batch(test, v)
        row = {
            "serialization": name, "test_meshes": len(test), "faces": faces, "tokens": test_batch.num_tokens,
            "fixed": test_batch.nbits() / faces,
            "static": compress(test_batch, StaticUnigram(token_counts(_batch(train, v)) + 1))[1] / faces,
            "adaptive": compress(test_batch, AdaptiveUnigram(v))[1] / faces,
        }  # fmt: skip
        context = MeshContextModel(tok.serialization).fit(train)
        rates = _context_rates(context, test, v, placements, args.runs / f"mesh_{name}_context")
        row["context"] = rates["payload_bits"] / faces
        row["context_file_per_mesh"] = 8 * rates["per_mesh_bytes"] / faces
        row["context_file_with_placement"] = 8 * rates["placed_bytes"] / faces
        row["context_model_bytes"] = rates["model_bytes"]
        row["round_trips"] = f"{rates['round_trips']}/{len(test)}"
        if args.prior_steps and name in args.prior_serializations:
            prior = _prior(_windows(train, v), args.prior_steps, args.runs / f"mesh_{name}_prior")
            windowed = WindowedModel(PriorCodingModel(prior, "bench"), WINDOW)
            row["prior"] = compress(test_batch, windowed)[1] / faces
            mixture = MixtureCodingModel([context, windowed], "context+prior")
            row["mixture"] = compress(test_batch, mixture)[1] / faces
        row["draco"] = 8 * draco / faces
        row["seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        print(f"{name}: {row}", flush=True)
    return rows


def main() -> None:
    from pathlib import Path

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="3 held-out / 8 training meshes, 10 prior steps")
    p.add_argument("--serializations", nargs="+", default=["nautilus", "amt", "bpt", "naive"])
    p.add_argument("--prior-steps", type=int, default=None, help="AR prior steps (default 300; 0: no prior)")
    p.add_argument(
        "--prior-serializations",
        nargs="+",
        default=["amt", "nautilus"],
        help="serializations that also get the learned prior and the mixture (CPU time)",
    )
    args = p.parse_args()
    if args.prior_steps is None:
        args.prior_steps = 10 if args.quick else 300
    args.runs = Path(__file__).resolve().parent.parent / "runs" / "bench_priors"
    try:
        import DracoPy  # noqa: F401
    except ImportError:
        print("priors_mesh.py skipped: DracoPy missing (pip install -e '.[mesh-bench]')")
        return
    write_results("priors_mesh", run(args))


if __name__ == "__main__":
    main()
