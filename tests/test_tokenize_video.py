"""``tokzoo tokenize`` on videos: fixed-length clip windows with their frame rate in the records, streamed,
corrupt files skipped, videos inside WebDataset shards; ``tokzoo encode clip.mp4`` with an image tokenizer."""

import hashlib
import io
import tarfile

import pytest
import torch

import tokzoo
from tokzoo.cli import main
from tokzoo.core.errors import DataError
from tokzoo.core.modality import get_modality
from tokzoo.core.tokens import Tokens
from tokzoo.data.tok_inputs import url_shards
from tokzoo.data.tok_shards import TokenShards
from tokzoo.data.tokenize import tokenize_files, tokenize_shards
from tokzoo.video.io import iter_windows, read_video, write_video
from video_clips import sprite_frames, write_sprite_clip


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips")
    write_sprite_clip(root / "a.mkv", frames=12, fps=8)  # 2 windows of 5 (2 frames dropped)
    write_sprite_clip(root / "b.mkv", frames=5, fps=12.5, seed=1)  # 1 window
    write_sprite_clip(root / "c.mkv", frames=3, fps=8, seed=2)  # shorter than one window
    (root / "d.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")  # corrupt
    files = sorted(root.iterdir())
    return root, files, [f.name for f in files]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return tokzoo.create("video-causal-f4x8-t").eval()


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_iter_windows_streams_fixed_length_windows(clips):
    root = clips[0]
    windows = list(iter_windows(root / "a.mkv", 5))
    assert [tuple(w.shape) for w in windows] == [(5, 32, 32, 3)] * 2
    assert torch.equal(torch.cat(windows), read_video(root / "a.mkv")[:10])
    assert len(list(iter_windows(root / "a.mkv", 5, max_frames=7))) == 1
    with pytest.raises(DataError, match=r"d\.mp4: cannot read video"):
        list(iter_windows(root / "d.mp4", 5))


@pytest.mark.parametrize("stride, starts", [(2, [0, 2, 4, 6]), (5, [0, 5]), (7, [0, 7])])
def test_iter_windows_stride_overlaps_or_skips(clips, stride, starts):
    path = clips[0] / "a.mkv"  # 12 frames
    frames = read_video(path)
    windows = list(iter_windows(path, 5, stride=stride))
    assert len(windows) == len(starts)
    for start, w in zip(starts, windows, strict=True):
        assert torch.equal(w, frames[start : start + 5])
    with pytest.raises(DataError, match="stride must be at least 1"):
        list(iter_windows(path, 5, stride=0))


def test_clip_stride_in_tokenize_meta(tmp_path, clips, model):
    _, files, names = clips
    res = tokenize_files(
        model, files[:1], names[:1], tmp_path / "s", options={"clip_frames": 5, "clip_stride": 3}
    )
    assert res.samples == 3
    assert [t.meta["clip_start"] for t in TokenShards(tmp_path / "s")] == [0, 3, 6]


def test_video_windows_fps_meta_round_trip_and_two_processes(tmp_path, clips, model):
    _, files, names = clips
    kw = {"shard_size": 2, "batch_size": 2, "options": {"clip_frames": 5}}
    one = tokenize_files(model, files, names, tmp_path / "one", **kw)
    assert one.manifest and one.samples == 3
    assert [b[0] for b in one.bad] == ["c.mkv", "d.mp4"] and "fewer frames than one clip of 5" in one.bad[0][
        1
    ]
    for rank in (1, 0):
        tokenize_files(model, files, names, tmp_path / "two", rank=rank, world_size=2, **kw)
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")

    data = TokenShards(tmp_path / "one")
    assert data.keys == ["000000000-00000", "000000000-00001", "000000001-00000"]
    metas = [(t.meta["source"], t.meta["fps"], t.meta["clip_start"], t.meta["clip_frames"]) for t in data]
    assert metas == [("a.mkv", 8.0, 0, 5), ("a.mkv", 8.0, 5, 5), ("b.mkv", 12.5, 0, 5)]
    assert data.tokens().batch_size == 3 and data[0].layout == "grid3d"
    # each record is the tokens of its window, and decodes to a clip written at the recorded rate
    clip = read_video(clips[0] / "a.mkv")[5:10].permute(3, 0, 1, 2).float()[None] / 255
    with torch.no_grad():
        assert torch.equal(model.encode(clip).ids, data[1].ids)
        out = tmp_path / "rec.mkv"
        model.save_file(model.decode(data[1])[0], out, **get_modality("video").save_options(data[1].meta))
    assert read_video(out).shape[0] == 5


def test_video_frame_limit_resample_and_parquet(tmp_path, clips, model):
    _, files, names = clips
    opts = {"clip_frames": 5, "max_frames": 6, "fps": 4.0}
    res = tokenize_files(model, files[:1], names[:1], tmp_path, fmt="parquet", options=opts)
    t = TokenShards(tmp_path)
    assert (
        res.samples == 1 and t[0].meta["fps"] == 4.0 and t[0].meta["source"] == "a.mkv"
    )  # 12 frames at 8 -> 6
    with pytest.raises(DataError, match="codes clips of 1 \\+ 4·k frames, not 6"):
        model.check_clip_frames(6)
    with pytest.raises(ValueError, match="clip_frames do not apply to image"):
        tokenize_files(tokzoo.create("vq-f8-s"), files, names, tmp_path / "x", options={"clip_frames": 5})


def test_videos_inside_webdataset_shards(tmp_path, clips, model):
    root = clips[0]
    with tarfile.open(tmp_path / "v-0.tar", "w") as tar:
        for key, name in (("s0", "a.mkv"), ("s1", "d.mp4")):
            data = (root / name).read_bytes()
            info = tarfile.TarInfo(f"{key}.{name.split('.')[1]}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    suffixes = get_modality("video").suffixes
    res = tokenize_shards(model, url_shards([str(tmp_path / "v-{0..0}.tar")], suffixes), tmp_path / "out",
                          options={"clip_frames": 5})  # fmt: skip
    data = TokenShards(tmp_path / "out")
    assert res.samples == 2 and data.keys == ["000000-0000000-00000", "000000-0000000-00001"]
    assert data[0].meta["source"].endswith("v-0.tar#s0") and data[0].meta["fps"] == 8.0
    assert (
        res.bad[0][0].endswith("v-0.tar#s1") and "sample.mp4" not in res.bad[0][1]
    )  # named, not the temp file


def test_cli_video_tokenize_and_image_tokenizer_per_frame(tmp_path, clips, model, capsys):
    root = clips[0]
    ckpt = tmp_path / "video"
    model.save_pretrained(ckpt)
    out = tmp_path / "shards"
    assert (
        main(["tokenize", "--model", str(ckpt), "--data", str(root), "--out", str(out), "--clip-frames", "5"])
        == 0
    )
    assert len(TokenShards(out)) == 3
    assert (
        main(["tokenize", "--model", str(ckpt), "--data", str(root), "--out", str(out), "--clip-frames", "4"])
        == 2
    )
    assert "codes clips of 1 + 4·k frames, not 4" in capsys.readouterr().err

    torch.manual_seed(0)
    image = tmp_path / "image"
    tokzoo.create("vq-f8-s").save_pretrained(image)
    clip = tmp_path / "clip.mp4"
    write_video(sprite_frames(7, 32, 32), clip, fps=10)
    tok = tmp_path / "clip.tok"
    assert (
        main(
            ["encode", str(clip), "--model", str(image), "-o", str(tok), "--max-frames", "4", "--size", "16"]
        )
        == 0
    )
    line = capsys.readouterr().out
    assert "4 frames" in line and "bits per frame" in line
    tokens = Tokens.load(tok)
    assert tokens.batch_size == 4 and tokens.meta["fps"] == 10.0 and tokens.meta["frames"] == 4
    assert (
        main(["encode", str(root / "a.mkv"), "--model", str(ckpt), "--max-frames", "4", "-o", str(tok)]) == 2
    )
    assert "--max-frames applies to a video encoded by an image tokenizer" in capsys.readouterr().err
