"""``tokzoo compress`` / ``tokzoo decompress``: ``.tok`` files <-> entropy-coded ``.tokc`` files under a coding
model, i.e. a trained AR prior (``tokzoo train-prior``'s ``RUN/prior``) or a saved mesh context model
(:meth:`tokzoo.mesh.context_model.MeshContextModel.save`)."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError, TokFormatError, TokLimitError
from tokzoo.core.limits import check_limit
from tokzoo.core.tokens import Tokens
from tokzoo.prior.container import CodingModel, compress, decompress


def load_coding_model(folder: str | Path) -> CodingModel:
    """The coding model saved in ``folder``: a mesh context model (``context.json``) or an AR prior
    (``config.json``), named in ``.tokc`` headers by the hash of its weights so a file is never decoded with
    another prior."""
    folder = Path(folder)
    if (folder / "context.json").is_file():
        from tokzoo.mesh.context_model import MeshContextModel

        return MeshContextModel.load(folder)
    if not (folder / "config.json").is_file():
        raise DataError(f"{folder}: not a coding model (no prior config.json or mesh context.json)")
    from tokzoo.prior.checkpoint import load_prior
    from tokzoo.prior.prior_coding import PriorCodingModel

    prior = load_prior(folder)
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()[:12]
    try:
        return PriorCodingModel(prior, name=f"prior-{digest}")
    except ValueError as e:  # a MaskGIT prior gives no next-token probabilities
        raise DataError(f"{folder}: {e}") from None


def _outputs(inputs: list[str], out: str | None, suffix: str) -> list[Path]:
    """Where each input's result goes: beside it, or in the folder ``out``."""
    paths = [Path(p) for p in inputs]
    if out is None:
        return [p.with_suffix(suffix) for p in paths]
    Path(out).mkdir(parents=True, exist_ok=True)
    return [Path(out) / (p.stem + suffix) for p in paths]


def cmd_compress(a: argparse.Namespace) -> None:
    model = load_coding_model(a.model)
    for src, dst in zip(a.inputs, _outputs(a.inputs, a.out, ".tokc"), strict=True):
        tokens = Tokens.load(src)
        try:
            data, bits = compress(tokens, model)
        except ValueError as e:  # layout / shape / vocabulary the model does not code
            raise DataError(f"{src}: {e}") from None
        atomic_write_bytes(dst, data)
        print(json.dumps({"input": str(src), "output": str(dst), "tokens": tokens.num_tokens,
                          "fixed_bits": tokens.nbits(), "payload_bits": bits, "file_bytes": len(data),
                          "bits_per_token": round(bits / max(1, tokens.num_tokens), 4)}))  # fmt: skip


def cmd_decompress(a: argparse.Namespace) -> None:
    model = load_coding_model(a.model)
    for src, dst in zip(a.inputs, _outputs(a.inputs, a.out, ".tok"), strict=True):
        check_limit(src, "tok_bytes", Path(src).stat().st_size, "file size in bytes", TokLimitError)
        try:
            tokens = decompress(Path(src).read_bytes(), model)
        except TokFormatError as e:
            raise TokFormatError(f"{src}: {e}") from None
        tokens.save(dst)
        print(json.dumps({"input": str(src), "output": str(dst), "samples": len(tokens)}))


def add_coding_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``compress`` and ``decompress`` commands' parsers."""
    for name, fn, what in (("compress", cmd_compress, ".tok -> .tokc"), ("decompress", cmd_decompress,
                                                                          ".tokc -> .tok")):  # fmt: skip
        s = sub.add_parser(name, help=f"{what}: entropy coding of token files under a prior or context model")
        s.add_argument("inputs", nargs="+", help=f"{what.split()[0]} files")
        s.add_argument(
            "--model", required=True,
            help="coding model folder: RUN/prior of tokzoo train-prior (AR), or a saved mesh context model",
        )  # fmt: skip
        s.add_argument("--out", default=None, help="output folder (default: beside each input)")
        s.set_defaults(fn=fn)
