"""Video tokenizers against codecs and floors at equal bits, on held-out real clips.

python benchmarks/video.py [--data data/video] [--model NAME=CHECKPOINT ...] [--size 64] [--clips N] [--quick]
    [--omni GROUP/SEED=CHECKPOINT ... [--omni-size 32]] [--flex CHECKPOINT [--fixed K=CHECKPOINT ...]]
    [--part codecs|omni|flex ...]
    ->  results/video.csv / .json (codecs), results/video_omni.csv / .json, results/video_flex.csv / .json

The test windows of ``python -m tokzoo.video.data`` (built first if missing; no test clip shares a source with
training) are scaled to ``size`` (per frame: shorter side, centre crop) and coded by

- each causal video tokenizer given with ``--model`` (a checkpoint folder), plus ``inflated@0``: the
  pretrained image tokenizer fsq-f8-s inflated into video-causal-f4x8-s, untrained on video, with the decoder
  holding each latent frame (``temporal_upsample: nearest``) and interpolating between them (``linear``);
- the per-frame image tokenizer at no more bits: ``video-frames-f16-s``, the pretrained ``fsq-f16-s`` on every
  frame;
- the key-frame image tokenizer at equal bits: ``video-keyframes-f4x8-s``, the pretrained ``fsq-f8-s`` on frames
  0, 4, 8, ... with the frames between linearly interpolated (exactly the video tokenizer's bits at 4x temporal
  compression);
- the equal-bits thumbnail clip (best t x s x s at 24·t·s² bits, upsampled), the floor;
- H.264, H.265, VP9 and AV1 through PyAV, each at the largest quality whose bitstream fits the video
  tokenizer's bytes (never over; below a codec's floor the row says so and the codec's floor bytes are given).

Fidelity is per-frame PSNR / SSIM after uint8 rounding and temporal flicker (8-bit levels), means over clips.

The paper claims (``video_claims.py``): ``--omni`` measures OmniTokenizer-style checkpoints (video-omni-*) on
the held-out clips and on held-out photos at ``--omni-size``; ``--flex`` gives a flexible model's prefix curve
(k = 1..K tokens) and ``--fixed`` the fixed-length models of the same architecture at their k.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import tokzoo
from common import RESULTS, write_results
from tokzoo.bench.codecs import BelowCodecFloor
from tokzoo.bench.video_codecs import available_video_codecs, encode_clip_to_budget
from tokzoo.bench.video_thumbnail import thumbnail_clip, thumbnail_shapes
from tokzoo.data.files import collect_files
from tokzoo.metrics.video import flicker, frame_psnr, frame_ssim
from tokzoo.video.io import VIDEO_SUFFIXES, read_video
from tokzoo.video.transforms import resize_clip
from video_claims import flex_rows, omni_rows

ROOT = Path(__file__).resolve().parent.parent


def load_clips(folder: Path, size: int, limit: int | None) -> tuple[list[str], torch.Tensor]:
    files = collect_files([folder], VIDEO_SUFFIXES)
    if limit:
        step = max(1, len(files) // limit)  # spread over the sources (files are sorted by source name)
        files = files[::step][:limit]
    clips = [resize_clip((read_video(f).permute(3, 0, 1, 2).float() / 255)[None], size) for f in files]
    return [f.name for f in files], torch.cat(clips)


def scores(rec: torch.Tensor, clip: torch.Tensor) -> dict[str, float]:
    return {
        "psnr": float(frame_psnr(rec, clip).mean()),
        "ssim": float(frame_ssim(rec, clip).mean()),
        "flicker": float(flicker(rec, clip).mean()),
    }


@torch.no_grad()
def video_model(
    model: tokzoo.Tokenizer, clip: torch.Tensor, num_tokens: int | None = None
) -> tuple[torch.Tensor, int, float]:
    t0 = time.perf_counter()
    tokens = model.encode(clip, num_tokens=num_tokens)
    rec = model.decode(tokens)
    return rec, tokens.nbits(), time.perf_counter() - t0


def thumbnail(clip: torch.Tensor, bits: int) -> tuple[torch.Tensor, str]:
    best = max(
        ((thumbnail_clip(clip, t, s), f"{t}x{s}x{s}") for t, s in thumbnail_shapes(bits, clip.shape[2])),
        key=lambda r: float(frame_psnr(r[0], clip).mean()),
    )
    return best


def codec(clip: torch.Tensor, name: str, max_bytes: int) -> tuple[torch.Tensor | None, int, str]:
    frames = (clip[0].permute(1, 2, 3, 0) * 255).round().byte().numpy()
    try:
        enc = encode_clip_to_budget(frames, name, max_bytes)
    except BelowCodecFloor as e:
        return None, e.floor_bytes, "below floor"
    rec = torch.from_numpy(enc.frames).permute(3, 0, 1, 2).float()[None] / 255
    return rec, enc.nbytes, f"crf {enc.crf}"


def profile_train_step(frames: int = 17, size: int = 128) -> dict[str, float]:
    """Seconds of each part of one training step of video-causal-f4x8-s on one clip, and the peak memory."""
    model = tokzoo.create("video-causal-f4x8-s")
    clip = torch.rand(1, 3, frames, size, size)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    z, shape = model._latents(clip)
    times["encoder_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    q = model.bottleneck(z, shape)
    times["quantizer_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rec = model._decode_latents(q.latents, shape)
    times["decoder_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    (F.mse_loss(rec, clip) + q.loss).backward()
    times["backward_s"] = time.perf_counter() - t0
    times["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return times


def claims(a: argparse.Namespace, clips: torch.Tensor, parts: list[str]) -> None:
    """The OmniTokenizer and VideoFlexTok parts: results/video_omni.* and results/video_flex.* (or the
    ``--flex-out`` name)."""
    if "omni" in parts:
        write_results("video_omni", omni_rows(a.omni, clips, a.omni_size))
    if "flex" in parts:
        rows, monotone = flex_rows(a.flex, a.fixed, clips)
        print(f"prefix curve monotone (non-decreasing in k): {monotone}")
        write_results(a.flex_out, rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=ROOT / "data" / "video")
    p.add_argument("--model", action="append", default=[], help="NAME=CHECKPOINT of a causal video tokenizer")
    p.add_argument(
        "--omni", action="append", default=[], help="GROUP/SEED=CHECKPOINT of a video-omni-* model"
    )
    p.add_argument("--omni-size", type=int, default=32, help="frame size of the --omni comparison")
    p.add_argument("--flex", default=None, help="checkpoint of a video-flex-* model: its prefix curve")
    p.add_argument(
        "--fixed", action="append", default=[], help="K=CHECKPOINT of a fixed-length video-flex-* model"
    )
    p.add_argument("--flex-out", default="video_flex", help="results name of the --flex part")
    p.add_argument("--part", action="append", choices=("codecs", "omni", "flex"), help="default: all given")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--clips", type=int, default=None, help="at most this many test windows (default: all)")
    p.add_argument("--quick", action="store_true", help="3 clips, the inflated model only")
    a = p.parse_args()
    parts = a.part or ["codecs"] + (["omni"] if a.omni else []) + (["flex"] if a.flex else [])
    if ("omni" in parts and not a.omni) or ("flex" in parts and not a.flex):
        p.error("--part omni needs --omni LABEL=CHECKPOINT; --part flex needs --flex CHECKPOINT")
    torch.manual_seed(0)
    if not (a.data / "manifest.json").is_file():
        subprocess.run([sys.executable, "-m", "tokzoo.video.data", "--out", str(a.data)], check=True)
    if "omni" in parts or "flex" in parts:
        _, source = load_clips(a.data / "test", 128, a.clips)  # the windows at their stored 128 px
        claims(a, source, parts)
    if "codecs" not in parts:
        return 0
    names, clips = load_clips(a.data / "test", a.size, 3 if a.quick else a.clips)
    print(f"{len(names)} held-out clips of {clips.shape[2]} frames at {a.size} px")

    models = {
        "inflated@0": tokzoo.create("video-causal-f4x8-s", inflate_from="pretrained:fsq-f8-s").eval(),
        "inflated@0, linear in time": tokzoo.create(
            "video-causal-f4x8-s", inflate_from="pretrained:fsq-f8-s", temporal_upsample="linear"
        ).eval(),
    }
    for spec in [] if a.quick else a.model:
        label, _, path = spec.partition("=")
        models[label] = tokzoo.load(path).eval()
    images = {  # the image tokenizers as video tokenizers (tokzoo.video.keyframes), from their shipped weights
        "image per frame (fsq-f16-s)": tokzoo.create("video-frames-f16-s").eval(),
        "image key frames (fsq-f8-s)": tokzoo.create(
            "video-keyframes-f4x8-s", key_every=models["inflated@0"].time_factor
        ).eval(),
    }
    codecs = available_video_codecs()
    per_clip: list[dict[str, object]] = []
    for i, name in enumerate(names):
        clip = clips[i : i + 1]
        budget_bits = None
        for label, model in models.items():
            rec, bits, secs = video_model(model, clip)
            budget_bits = budget_bits or bits
            per_clip.append(
                {"clip": name, "method": f"video:{label}", "bits": bits, "seconds": secs, **scores(rec, clip)}
            )
        assert budget_bits is not None
        for method, model in images.items():
            rec, bits, secs = video_model(model, clip)
            per_clip.append(
                {"clip": name, "method": method, "bits": bits, "seconds": secs, **scores(rec, clip)}
            )
        rec, shape = thumbnail(clip, budget_bits)
        per_clip.append(
            {
                "clip": name,
                "method": "thumbnail floor",
                "bits": budget_bits,
                "note": shape,
                **scores(rec, clip),
            }
        )
        for c in codecs:
            rec, nbytes, note = codec(clip, c, budget_bits // 8)
            row = {"clip": name, "method": c, "bits": nbytes * 8, "note": note}
            per_clip.append(row | (scores(rec, clip) if rec is not None else {}))

    frames, size = clips.shape[2], a.size
    rows = []
    for method in dict.fromkeys(r["method"] for r in per_clip):
        rs = [r for r in per_clip if r["method"] == method]
        ok = [r for r in rs if "psnr" in r]
        mean = lambda k, rs=ok: float(np.mean([r[k] for r in rs])) if rs else math.nan  # noqa: E731
        rows.append(
            {
                "method": method,
                "clips": len(ok),
                "below_floor": len(rs) - len(ok),
                "bits_per_clip": float(np.mean([r["bits"] for r in rs])),
                "bpp": float(np.mean([r["bits"] for r in rs])) / (frames * size * size),
                "psnr": mean("psnr"),
                "ssim": mean("ssim"),
                "flicker": mean("flicker"),
                "clips_per_s": 1 / mean("seconds") if ok and "seconds" in ok[0] else math.nan,
            }
        )
    out = write_results("video", rows)
    extra: dict[str, object] = {"clips": per_clip}
    if not a.quick:
        extra["train_step_17x128x128"] = profile = profile_train_step()
        print(
            "one training step, 1 clip of 17 frames at 128 px:", {k: round(v, 2) for k, v in profile.items()}
        )
    RESULTS.joinpath("video_clips.json").write_text(json.dumps(extra, indent=2) + "\n")
    print(f"wrote {out} and results/video_clips.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
