"""Video codec baselines at a byte budget, through the encoders of the PyAV wheel (FFmpeg).

H.264 (libx264), H.265 (libx265), VP9 (libvpx-vp9) and AV1 (libsvtav1), each driven by its constant-quality
knob (CRF): a binary search finds the best quality whose bitstream fits the budget, never over it. The bytes
counted are the encoded packets in a raw elementary stream (Annex-B H.264/H.265, IVF for VP9/AV1): the codec's own
bitstream with the headers a decoder needs (SPS/PPS, sequence headers), not a container, as the tokens' bytes are
the ``.tok`` payload. The SEI messages in which x264 and x265 write their version and settings (about 650 bytes,
more than a small clip's whole picture data) are stripped by FFmpeg's ``filter_units`` bitstream filter: no
decoder needs them. A budget below a codec's smallest output
(its coarsest CRF) raises :class:`~tokzoo.bench.codecs.BelowCodecFloor`. Frames are coded as 4:2:0 YUV.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from fractions import Fraction

import av
import av.bitstream
import numpy as np

from tokzoo.bench.codecs import BelowCodecFloor
from tokzoo.core.errors import DataError

__all__ = ["VIDEO_CODECS", "EncodedClip", "available_video_codecs", "encode_clip", "encode_clip_to_budget"]


@dataclass(frozen=True)
class VideoCodec:
    """One encoder: its FFmpeg name, the raw stream format, its CRF range (best quality first), its options and
    the bitstream filter that strips what no decoder needs."""

    encoder: str
    container: str
    crf_range: tuple[int, int]
    options: tuple[tuple[str, str], ...] = ()
    strip: str = ""


#: name -> codec, in the order reports list them.
VIDEO_CODECS = {
    "h264": VideoCodec("libx264", "h264", (0, 51), (("preset", "medium"),), "filter_units=remove_types=6"),
    "h265": VideoCodec(
        "libx265",
        "hevc",
        (0, 51),
        (("preset", "medium"), ("x265-params", "log-level=none")),
        "filter_units=remove_types=39|40",
    ),
    "vp9": VideoCodec("libvpx-vp9", "ivf", (0, 63), (("b", "0"), ("cpu-used", "4"), ("row-mt", "0"))),
    "av1": VideoCodec("libsvtav1", "ivf", (1, 63), (("preset", "8"), ("svtav1-params", "lp=1"))),
}
os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its configuration to stderr at every encode otherwise


@dataclass
class EncodedClip:
    """A clip coded by ``codec`` at ``crf``: ``nbytes`` of bitstream and the decoded uint8 frames (T, H, W, 3)."""

    codec: str
    crf: int
    nbytes: int
    frames: np.ndarray


def available_video_codecs() -> list[str]:
    """The names of :data:`VIDEO_CODECS` whose encoder this PyAV build has."""
    return [name for name, c in VIDEO_CODECS.items() if c.encoder in av.codecs_available]


def encode_clip(frames: np.ndarray, codec: str, crf: int, *, fps: int = 24) -> EncodedClip:
    """Code uint8 frames (T, H, W, 3), even sides, with ``codec`` at ``crf``, and decode them back."""
    if codec not in VIDEO_CODECS:
        raise DataError(f"unknown video codec {codec!r} (known: {', '.join(VIDEO_CODECS)})")
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise DataError(f"expected uint8 frames (T, H, W, 3), got {frames.dtype} {frames.shape}")
    c = VIDEO_CODECS[codec]
    t, h, w = frames.shape[:3]
    if h % 2 or w % 2:
        raise DataError(f"{codec} codes 4:2:0 frames: sides must be even, got {w}x{h}")
    buffer, nbytes = io.BytesIO(), 0
    with av.open(buffer, mode="w", format=c.container) as out:
        stream = out.add_stream(c.encoder, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.options = {"crf": str(crf), **dict(c.options)}
        stream.thread_count = 1
        strip = av.bitstream.BitStreamFilterContext(c.strip, stream) if c.strip else None
        packets = []
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = i
            packets += stream.encode(frame)
        packets += stream.encode(None)
        if strip is not None:
            packets = [q for p in [*packets, None] for q in strip.filter(p)]
        for packet in packets:
            nbytes += packet.size
            packet.stream = stream
            out.mux(packet)
    buffer.seek(0)
    with av.open(buffer, mode="r") as inp:
        decoded = [f.to_ndarray(format="rgb24") for f in inp.decode(video=0)]
    if len(decoded) != t:
        raise DataError(f"{codec} at crf {crf}: decoded {len(decoded)} frames of {t}")
    return EncodedClip(codec, crf, nbytes, np.stack(decoded))


def encode_clip_to_budget(frames: np.ndarray, codec: str, max_bytes: int, *, fps: int = 24) -> EncodedClip:
    """The best-quality (lowest CRF) coding of ``frames`` whose bitstream is at most ``max_bytes``, found by
    binary search over the CRF; ``BelowCodecFloor`` when even the coarsest CRF is over budget."""
    best, worst = VIDEO_CODECS[codec].crf_range
    coarsest = encode_clip(frames, codec, worst, fps=fps)
    if coarsest.nbytes > max_bytes:
        raise BelowCodecFloor(codec, max_bytes, coarsest.nbytes, worst)
    fit, low, high = coarsest, best, worst - 1
    while low <= high:
        mid = (low + high) // 2
        trial = encode_clip(frames, codec, mid, fps=fps)
        if trial.nbytes <= max_bytes:
            fit, high = (trial if trial.crf < fit.crf else fit), mid - 1
        else:
            low = mid + 1
    return fit
