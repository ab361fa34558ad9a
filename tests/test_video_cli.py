"""`tokzoo encode / decode / eval` on clip files, through the video modality plugin."""

from __future__ import annotations

import json

import pytest

import tokzoo
from tokzoo.cli import main
from tokzoo.core.tokens import Tokens
from tokzoo.video.io import probe_video, read_video
from video_clips import write_sprite_clip


def test_encode_decode_eval_a_clip(tmp_path, capsys):
    ckpt = str(tokzoo.create("video-causal-f4x8-t").save_pretrained(tmp_path / "model"))
    clip = write_sprite_clip(tmp_path / "clip.mp4", frames=7, size=40)
    tok = tmp_path / "clip.tok"
    assert main(["encode", str(clip), "--model", ckpt, "--size", "32", "-o", str(tok)]) == 0
    out = capsys.readouterr().out
    assert "32 tokens, 320 bits" in out and "bits per frame" in out  # 7 frames cut to 5: (2, 4, 4) tokens
    assert main(["decode", str(tok), "--model", ckpt]) == 0
    rec = tmp_path / "clip_rec.mkv"
    assert capsys.readouterr().out.strip() == str(rec)
    assert read_video(rec).shape == (5, 32, 32, 3)
    bad = tmp_path / "bad.webm"
    bad.write_bytes(b"\x1a\x45\xdf\xa3 broken")
    metrics = tmp_path / "eval" / "metrics.json"
    assert (
        main(["eval", "--model", ckpt, "--data", str(clip), str(bad), "--size", "32", "--out", str(metrics)])
        == 0
    )
    result = json.loads(metrics.read_text())
    assert [r["file"] for r in result["files"]] == ["clip.mp4"]
    assert result["files"][0]["bits"] == 320 and result["files"][0]["frames"] == 5
    assert (
        result["failures"][0]["file"] == "bad.webm" and "cannot read video" in result["failures"][0]["reason"]
    )
    assert (tmp_path / "eval" / "report.html").is_file()


def test_clip_errors_are_one_line(tmp_path, capsys):
    ckpt = str(tokzoo.create("video-causal-f4x8-t").save_pretrained(tmp_path / "model"))
    clip = write_sprite_clip(tmp_path / "clip.mkv", frames=5, size=20)
    assert main(["encode", str(clip), "--model", ckpt]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tokzoo: error: ") and "downsampling factor 8" in err and err.count("\n") == 1
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"RIFF....AVI LIST")
    assert main(["encode", str(junk), "--model", ckpt]) == 2
    assert "junk.avi: cannot read video" in capsys.readouterr().err
    assert not (tmp_path / "junk.tok").exists()


def test_decode_writes_the_source_frame_rate(tmp_path, capsys):
    ckpt = str(tokzoo.create("video-omni-t", width=32, heads=2, window=2).save_pretrained(tmp_path / "model"))
    for fps, suffix in ((8, ".mkv"), (30000 / 1001, ".mp4")):
        clip = write_sprite_clip(tmp_path / f"clip{suffix}", frames=5, size=16, fps=fps)
        tok = tmp_path / f"clip{suffix}.tok"
        assert main(["encode", str(clip), "--model", ckpt, "-o", str(tok)]) == 0
        assert Tokens.load(tok).meta["fps"] == pytest.approx(fps)
        rec = tmp_path / f"rec{suffix}"
        assert main(["decode", str(tok), "--model", ckpt, "-o", str(rec)]) == 0
        assert probe_video(rec).fps == pytest.approx(fps, rel=1e-4)
    tokens = Tokens.load(tok)
    tokens.meta["fps"] = "fast"
    tokens.save(tmp_path / "bad.tok")
    capsys.readouterr()
    assert main(["decode", str(tmp_path / "bad.tok"), "--model", ckpt, "-o", str(tmp_path / "bad.mkv")]) == 2
    assert "invalid frame rate 'fast'" in capsys.readouterr().err and not (tmp_path / "bad.mkv").exists()
