"""``tokzoo eval`` end to end: metrics.json + self-contained report.html, and bad input that writes nothing."""

import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

import tokzoo
from tokzoo.bench.eval_run import EvalOptions, LearnedMetrics, perceptual_rows
from tokzoo.bench.evaluate import evaluate
from tokzoo.bench.protocol import prepare_images
from tokzoo.cli import main
from tokzoo.data import bundled_images
from tokzoo.metrics.lpips import LPIPS

EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", re.IGNORECASE)


@pytest.fixture(autouse=True)
def no_weight_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKZOO_WEIGHTS_DIR", str(tmp_path / "no-cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-torch"))
    for env in ("TOKZOO_FID_WEIGHTS", "TOKZOO_LPIPS_WEIGHTS", "TOKZOO_LPIPS_BACKBONE"):
        monkeypatch.delenv(env, raising=False)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "model"
    return str(tokzoo.create("vq-f8-s", ch=8, codebook_size=64).save_pretrained(path))


def photos(folder, n=3, size=(40, 48)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return folder


def test_eval_writes_metrics_and_offline_report(ckpt, tmp_path, capsys):
    data = photos(tmp_path / "data")
    (data / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "run" / "metrics.json"
    assert main(["eval", "--model", ckpt, "--data", str(data), "--size", "32", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert (
        "report.html" in text
        and "1 unreadable files skipped" in text
        and "MS-SSIM           unavailable" in text
    )
    m = json.loads(out.read_text())
    s = m["summary"]
    assert s["num_images"] == 3 and s["bits"]["mean"] == 96 and s["ms_ssim"] is None
    assert "176 px" in s["unavailable"]["ms_ssim"] and "41 px" in s["unavailable"]["vif"]
    assert 0 < s["token_stats"]["usage"] <= 1 and s["token_stats"]["tokens"] == 3 * 16
    assert [r["metric"] for r in m["perceptual"]] == ["rFID", "LPIPS (AlexNet)"]
    assert all(r["value"] is None and "unavailable" in r["note"] for r in m["perceptual"])
    html = (tmp_path / "run" / "report.html").read_text()
    assert not EXTERNAL.search(html)
    assert html.count('src="data:image/png;base64,') >= 2  # comparison grid + per-position entropy plot
    for heading in ("Fidelity", "Token statistics", "Per image", "Skipped files"):
        assert f"<h2>{heading}</h2>" in html
    assert "broken.jpg" in html


def _fails(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tokzoo: error: ") and "\n" not in err and "Traceback" not in err
    return err


def _nothing_written(folder):
    return not folder.exists() or not any(folder.iterdir())


def test_eval_without_data_uses_the_bundled_test_photos(ckpt, tmp_path, capsys):
    out = tmp_path / "metrics.json"
    assert main(["eval", "--model", ckpt, "--size", "32", "--out", str(out)]) == 0
    m = json.loads(out.read_text())
    assert (
        m["summary"]["num_images"] == len(bundled_images("test"))
        and "bundled:test" in capsys.readouterr().out
    )


def test_image_eval_takes_one_data_source(ckpt, tmp_path, capsys):
    argv = [
        "eval",
        "--model",
        ckpt,
        "--data",
        "bundled:test",
        "bundled:train",
        "--out",
        str(tmp_path / "m.json"),
    ]
    assert main(argv) == 2
    assert "take one --data" in capsys.readouterr().err and not (tmp_path / "m.json").exists()


def test_model_cannot_take_the_size(ckpt, tmp_path, capsys):
    out = tmp_path / "run"
    err = _fails(
        capsys,
        ["eval", "--model", ckpt, "--data", "bundled:test", "--size", "60", "--out", str(out / "m.json")],
    )
    assert "cannot encode 60x60" in err and "multiple of" in err and "--size" in err
    assert _nothing_written(out)


def test_empty_folder(ckpt, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "run"
    err = _fails(
        capsys, ["eval", "--model", ckpt, "--data", str(tmp_path / "empty"), "--out", str(out / "m.json")]
    )
    assert "no images found" in err and "Fix:" in err
    assert _nothing_written(out)


def test_folder_of_unreadable_files(ckpt, tmp_path, capsys):
    data = tmp_path / "junk"
    data.mkdir()
    (data / "a.png").write_bytes(b"\x89PNG but not really")
    (data / "b.jpg").write_text("hello")
    out = tmp_path / "run"
    err = _fails(capsys, ["eval", "--model", ckpt, "--data", str(data), "--out", str(out / "m.json")])
    assert "none of the 2 image files could be read" in err and "a.png" in err and "Fix:" in err
    assert _nothing_written(out)


def test_missing_weight_file_leaves_previous_results_untouched(ckpt, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "m.json").write_text("previous complete result\n")
    err = _fails(
        capsys,
        ["eval", "--model", ckpt, "--data", "bundled:test", "--size", "32", "--out", str(out / "m.json"),
         "--fid-weights", str(tmp_path / "pt_inception.pth")],
    )  # fmt: skip
    assert "pt_inception.pth: weight file not found" in err
    assert sorted(p.name for p in out.iterdir()) == ["m.json"]
    assert (out / "m.json").read_text() == "previous complete result\n"


def test_lpips_with_supplied_weights_is_reported_per_image(tmp_path):
    torch.manual_seed(0)
    lp = LPIPS()
    torch.save(lp.net.state_dict(), tmp_path / "alexnet.pth")
    torch.save({k: v.abs() for k, v in lp.heads.state_dict().items()}, tmp_path / "alex.pth")
    model = tokzoo.create("vq-f8-s", ch=8, codebook_size=64)
    names, imgs = prepare_images(bundled_images("test"), 32)
    result = evaluate(model, names, imgs)
    opts = EvalOptions(data="bundled:test", lpips_weights=str(tmp_path / "alex.pth"),
                       lpips_backbone=str(tmp_path / "alexnet.pth"))  # fmt: skip
    rows = perceptual_rows(result, LearnedMetrics.load(opts))
    assert rows[0]["value"] is None  # no Inception weights: rFID unavailable
    assert rows[1]["value"]["n"] == 3 and all(r["lpips"] > 0 for r in result.records)
    assert result.summary["lpips"]["mean"] == pytest.approx(np.mean([r["lpips"] for r in result.records]))


def test_missing_ocr_engine_fails_before_any_work(ckpt, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # the tesseract binary cannot be found
    out = tmp_path / "run"
    err = _fails(
        capsys,
        ["eval", "--model", ckpt, "--data", "bundled:test", "--size", "32", "--out", str(out / "m.json"),
         "--text", "--text-engine", "tesseract"],
    )  # fmt: skip
    assert "tesseract" in err and "not installed" in err
    assert _nothing_written(out)


def test_text_bins_fit_the_page():
    from tokzoo.bench.text_render import text_bins
    from tokzoo.core.errors import DataError

    assert text_bins(256)[-1] == (32, 48)
    assert all(4 * hi <= 128 for _, hi in text_bins(128)) and text_bins(128)[0] == (6, 7)
    with pytest.raises(DataError, match="--size 16"):
        text_bins(16)


@pytest.mark.slow
def test_eval_with_rd_and_text_sections(ckpt, tmp_path):
    out = tmp_path / "run" / "metrics.json"
    argv = ["eval", "--model", ckpt, "--data", "bundled:test", "--size", "64", "--out", str(out)]
    assert main([*argv, "--rd", "--text", "--text-words", "2", "--faces"]) == 0
    m = json.loads(out.read_text())
    assert {r["kind"] for r in m["rd"]} == {"tokenizer", "codec", "thumbnail"}
    assert m["text_legibility"]["rows"][-1]["bin"] == "all"
    html = (tmp_path / "run" / "report.html").read_text()
    assert m["face_identity"]["rows"][-1]["face_width"] == "all"
    assert "Rate–distortion" in html and "Text legibility" in html and "Face identity" in html
    assert not EXTERNAL.search(html)


def test_eval_and_bench_rd_measure_the_same_numbers():
    """One protocol: ``tokzoo eval`` and ``tokzoo bench rd`` give a tokenizer the same rate and fidelity."""
    from tokzoo.bench.rd import rate_distortion

    model = tokzoo.create("vq-f8-s", ch=8, codebook_size=64)
    names, imgs = prepare_images(bundled_images("test"), 32)
    records = evaluate(model, names, imgs).records
    side = records[0]["thumb_side"]  # the equal-bits thumbnail of 96 bits: 2x2
    rows = rate_distortion(model, names, imgs, codecs=(), sweep_bpp=(), thumb_sides=(side,))
    tok = [r for r in rows if r["kind"] == "tokenizer"]
    assert [r["image"] for r in tok] == names
    for row, rec in zip(tok, records, strict=True):
        assert row["bits"] == rec["bits"] and row["bpp"] == pytest.approx(rec["bpp"])
        for key in ("psnr", "ssim"):
            assert row[key] == pytest.approx(rec[key], rel=1e-6)
    thumb = [r for r in rows if r["kind"] == "thumbnail"]
    for row, rec in zip(thumb, records, strict=True):
        assert row["psnr"] == pytest.approx(rec["thumb_psnr"], rel=1e-6)


def test_missing_face_model_fails_before_any_work(ckpt, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "face_recognition", None)  # as if the package were not installed
    out = tmp_path / "run"
    argv = ["eval", "--model", ckpt, "--data", "bundled:test", "--size", "64", "--out", str(out / "m.json")]
    err = _fails(capsys, [*argv, "--faces"])
    assert "face_recognition" in err and "pip install" in err
    assert _nothing_written(out)


def test_face_widths_fit_the_page():
    from tokzoo.bench.eval_run import face_widths
    from tokzoo.core.errors import DataError

    assert face_widths(256) == [32, 64, 128] and face_widths(128) == [32, 64]
    with pytest.raises(DataError, match="--size 48"):
        face_widths(48)
