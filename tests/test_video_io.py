"""Video files through PyAV: round trips per container, read options, limits and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from tokzoo.core.errors import DataError, LimitError
from tokzoo.video.io import VIDEO_SUFFIXES, probe_video, read_video, write_video
from video_clips import sprite_frames, write_sprite_clip


@pytest.mark.parametrize("suffix", VIDEO_SUFFIXES)
def test_write_read_round_trip(tmp_path, suffix):
    frames = sprite_frames(5, 24, 32)
    path = tmp_path / f"clip{suffix}"
    write_video(frames, path, fps=8)
    back = read_video(path).numpy().astype(int)
    assert back.shape == frames.shape
    error = np.abs(back - frames).mean()
    if suffix in (".mkv", ".avi"):  # FFV1 RGB: lossless
        assert error == 0
    else:
        assert error < (12 if suffix == ".gif" else 3), error


def test_read_options_size_frames_and_rate(tmp_path):
    path = write_sprite_clip(tmp_path / "c.mkv", frames=12, size=32, fps=8)
    assert probe_video(path).fps == 8
    assert read_video(path, size=16).shape == (12, 16, 16, 3)
    assert read_video(path, max_frames=5).shape == (5, 32, 32, 3)
    assert read_video(path, fps=4).shape[0] == 6  # every second frame
    odd = tmp_path / "odd.mkv"
    write_video(sprite_frames(3, 21, 35), odd)
    assert read_video(odd, size=16).shape == (3, 16, 16, 3)


def test_limits_refuse_before_decoding_and_max_frames_streams(tmp_path, monkeypatch):
    path = write_sprite_clip(tmp_path / "long.avi", frames=40, size=32)  # AVI declares its frame count
    monkeypatch.setenv("TOKZOO_LIMIT_VIDEO_FRAMES", "30")
    with pytest.raises(
        LimitError, match=r"long\.avi: declared frame count 40 exceeds the limit video_frames"
    ):
        read_video(path)
    assert read_video(path, max_frames=9).shape[0] == 9  # asking for fewer frames streams them
    monkeypatch.setenv("TOKZOO_LIMIT_VIDEO_PIXELS", str(8 * 32 * 32))
    with pytest.raises(LimitError, match="video_pixels"):
        read_video(path, max_frames=9)


def test_undeclared_length_is_bounded_while_streaming(tmp_path, monkeypatch):
    path = write_sprite_clip(tmp_path / "long.mkv", frames=20, size=16)  # Matroska declares no frame count
    monkeypatch.setenv("TOKZOO_LIMIT_VIDEO_FRAMES", "10")
    with pytest.raises(LimitError, match=r"long\.mkv: .*video_frames"):
        read_video(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.mp4", b""), ("junk.mp4", b"not a video at all" * 50), ("text.avi", b"RIFF\x00\x00")],
)
def test_bad_files_are_one_line_errors_naming_the_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as e:
        read_video(path)
    assert str(e.value).startswith(str(path)) and "\n" not in str(e.value)


def test_truncated_and_mutated_files_fail_cleanly(tmp_path):
    data = (write_sprite_clip(tmp_path / "ok.mp4", frames=9, size=32)).read_bytes()
    rng = np.random.default_rng(0)
    for i in range(12):  # truncation and byte flips: decoded frames or one DataError, never a crash
        raw = bytearray(data[: len(data) * (i + 1) // 13])
        for j in rng.integers(0, len(raw), size=i):
            raw[j] ^= 0xFF
        path = tmp_path / f"bad{i}.mp4"
        path.write_bytes(bytes(raw))
        try:
            frames = read_video(path)
        except DataError as e:
            assert str(path) in str(e)
        else:
            assert frames.ndim == 4 and frames.shape[-1] == 3


def test_write_refuses_bad_input_and_writes_nothing(tmp_path):
    with pytest.raises(DataError, match=r"cannot write \.png"):
        write_video(sprite_frames(2), tmp_path / "x.png")
    with pytest.raises(DataError, match="uint8 frames"):
        write_video(np.zeros((2, 8, 8, 3), np.float32), tmp_path / "x.mkv")
    assert not list(tmp_path.iterdir())


def test_a_short_clip_without_a_declared_length_is_read_at_any_limit_it_fits(tmp_path, monkeypatch):
    path = write_sprite_clip(tmp_path / "short.mkv", frames=9, size=32)
    monkeypatch.setenv("TOKZOO_LIMIT_VIDEO_PIXELS", str(9 * 32 * 32))
    assert read_video(path).shape == (9, 32, 32, 3)
    monkeypatch.setenv("TOKZOO_LIMIT_VIDEO_PIXELS", str(8 * 32 * 32))
    with pytest.raises(LimitError, match=r"short\.mkv: decoded pixels"):
        read_video(path)


def test_variable_frame_rate_is_resampled_by_timestamps(tmp_path):
    import io
    from fractions import Fraction

    import av

    path = tmp_path / "vfr.mkv"
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="matroska") as out:
        stream = out.add_stream("ffv1", rate=10)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "bgr0"
        stream.time_base = Fraction(1, 10)
        for i, pts in enumerate([0, 1, 2, 5, 6, 10]):  # gaps: 0.3 s and 0.4 s without frames
            frame = av.VideoFrame.from_ndarray(np.full((16, 16, 3), 20 * i, np.uint8), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 10)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    path.write_bytes(buffer.getvalue())
    assert len(read_video(path)) == 6
    kept = read_video(path, fps=5)[:, 0, 0, 0].tolist()  # first frame at or after each 0.2 s tick
    assert kept == [0, 40, 60, 100]


@pytest.mark.slow
def test_mutated_real_clips_fail_cleanly(tmp_path):
    from tokzoo.data.apt import debian_package

    try:
        root = debian_package("opencv-doc") / "usr/share/doc/opencv-doc/examples/data"
    except DataError as e:
        pytest.skip(str(e))
    rng = np.random.default_rng(1)
    for name in ("Megamind.avi", "tree.avi"):
        data = (root / name).read_bytes()[:200_000]
        for i in range(25):
            raw = bytearray(data[: rng.integers(1, len(data))])
            for j in rng.integers(0, len(raw), size=rng.integers(0, 40)):
                raw[j] = rng.integers(0, 256)
            path = tmp_path / f"m{i}.avi"
            path.write_bytes(bytes(raw))
            try:
                read_video(path, size=32, max_frames=20)
            except DataError as e:
                assert str(path) in str(e) and "\n" not in str(e)
