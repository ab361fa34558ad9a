"""Rate–distortion sweeps: same protocol as evaluate(), budgets respected, floors honest, plots and CLI."""

import csv
import shutil

import pytest
import torch

import tokzoo
from tokzoo.bench.evaluate import evaluate
from tokzoo.bench.protocol import prepare_images
from tokzoo.bench.rd import plot_rd, rate_distortion, summarize_rd, supported_token_counts, write_rd
from tokzoo.cli import main
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.data import bundled_images, save_image

SIZE = 32


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = tokzoo.create("vq-f8-s").eval()
    names, images = prepare_images(bundled_images("test"), SIZE)
    rows = rate_distortion(
        model, names, images, codecs=("jpeg", "webp"), sweep_bpp=(0.5, 4.0), thumb_sides=(2, 4)
    )
    return model, names, images, rows


def by(rows, **match):
    return [r for r in rows if all(r[k] == v for k, v in match.items())]


def test_tokenizer_points_match_evaluate(setup):
    model, names, images, rows = setup
    reference = evaluate(model, names, images).records
    tok = by(rows, kind="tokenizer")
    assert [r["image"] for r in tok] == names
    for r, ref in zip(tok, reference, strict=True):
        assert r["bits"] == ref["bits"] and r["bpp"] == pytest.approx(ref["bpp"])
        assert r["psnr"] == pytest.approx(ref["psnr"], abs=1e-4)
        assert r["ssim"] == pytest.approx(ref["ssim"], abs=1e-4)
        assert r["ms_ssim"] is None  # 32 px is below MS-SSIM's 176 px


def test_codec_rows_respect_budgets_and_floors(setup):
    rows = setup[3]
    codec_rows = by(rows, kind="codec")
    assert {r["method"] for r in codec_rows} == {"JPEG", "WebP"}
    for r in codec_rows:
        if r["point"] == "floor":
            assert r["fits"] and r["budget_bits"] is None and r["quality"] in (0, 1)
        elif r["fits"]:
            assert r["bits"] <= r["budget_bits"] and r["bits"] % 8 == 0 and r["psnr"] is not None
        else:  # below the floor: no file, no metric
            assert r["bits"] is None and r["psnr"] is None and r["bpp"] is None
            floor = by(rows, kind="codec", method=r["method"], point="floor", image=r["image"])[0]
            assert floor["bits"] > r["budget_bits"]
    # At 32 px a JPEG file needs hundreds of bytes: the tokenizer's 16 tokens (20 bytes) are below every floor.
    assert not any(r["fits"] for r in by(rows, kind="codec", point="= vq-f8-s 16 tokens"))
    assert all(r["fits"] for r in by(rows, kind="codec", point="4 bpp"))


def test_thumbnail_rows_cost_24_bits_per_pixel_of_thumbnail(setup):
    rows = setup[3]
    assert {r["bits"] for r in by(rows, point="4x4")} == {384}
    means = {s["point"]: s["psnr"] for s in summarize_rd(rows) if s["kind"] == "thumbnail"}
    assert means["2x2"] < means["4x4"]


def test_summary_averages_only_points_every_image_fits(setup):
    rows = setup[3]
    summary = summarize_rd(rows)
    below = [s for s in summary if s["kind"] == "codec" and s["fit"] < s["images"]]
    assert below and all(s["bpp"] is None and s["psnr"] is None for s in below)
    full = next(s for s in summary if s["method"] == "JPEG" and s["point"] == "4 bpp")
    per_image = [r["psnr"] for r in by(rows, method="JPEG", point="4 bpp")]
    assert full["fit"] == 3 and full["psnr"] == pytest.approx(sum(per_image) / 3)


def test_plot_rd_log_axis_and_unavailable_metric(setup):
    rows = setup[3]
    fig = plot_rd(rows, ("psnr", "ssim"))
    axes = fig.get_axes()
    assert len(axes) == 2 and all(ax.get_xscale() == "log" for ax in axes)
    labels = axes[0].get_legend_handles_labels()[1]
    assert "equal-bits thumbnail" in labels and any(lab.startswith("JPEG (floor") for lab in labels)
    # No codec line reaches left of its floor.
    for line in axes[0].get_lines():
        if line.get_label().startswith("JPEG (floor"):
            floor_bpp = float(line.get_label().split("floor ")[1].split(" ")[0])
            assert min(line.get_xdata()) >= floor_bpp * 0.99  # label rounds to 3 digits
    with pytest.raises(DataError, match="MS-SSIM needs a side of at least 176"):
        plot_rd(rows, "ms_ssim")


def test_write_rd_files(setup, tmp_path):
    rows = setup[3]
    paths = write_rd(rows, tmp_path / "rd")
    assert [p.name for p in paths] == ["rd.csv", "rd_summary.csv", "rd.png"]
    with open(paths[0]) as f:
        back = list(csv.DictReader(f))
    assert len(back) == len(rows) and back[0]["kind"] == "tokenizer"
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fixed_length_model_has_one_count_and_refuses_others(setup):
    model, names, images, _ = setup
    assert supported_token_counts(model) == [None]
    with pytest.raises(DataError, match="fixed-length"):
        rate_distortion(model, names, images, codecs=(), token_counts=[4], thumb_sides=())


def test_bad_inputs(setup):
    model, names, images, _ = setup
    with pytest.raises(ConfigError, match="unknown codec 'bpg'"):
        rate_distortion(model, names, images, codecs=("bpg",))
    with pytest.raises(DataError, match="one name per image"):
        rate_distortion(model, names[:1], images)


def test_codecs_only(setup):
    _, names, images, _ = setup
    rows = rate_distortion(None, names, images, codecs=("webp",), sweep_bpp=(), thumb_sides=(1,))
    assert {r["kind"] for r in rows} == {"codec", "thumbnail"}


def test_cli_bench_rd(setup, tmp_path, capsys):
    model = setup[0]
    model.save_pretrained(tmp_path / "model")
    data = tmp_path / "imgs"
    for name, image in bundled_images("test")[:2]:
        save_image(image, data / f"{name}.png")
    out = tmp_path / "rd"
    argv = ["bench", "rd", "--model", str(tmp_path / "model"), "--data", str(data), "--size", "32"]
    assert main([*argv, "--codecs", "webp", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["rd.csv", "rd.png", "rd_summary.csv"]
    assert "thumbnail" in capsys.readouterr().out
    bad_out = tmp_path / "bad"
    assert main([*argv, "--codecs", "bpg", "--out", str(bad_out)]) == 2
    assert "unknown codec 'bpg'" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main([*argv[:4], "--data", str(tmp_path / "empty"), "--out", str(bad_out)]) == 2
    assert not bad_out.exists()


def test_ocr_column_reaches_the_right_images(setup):
    model, names, images, _ = setup
    seen = []

    def scorer(rec, index):
        seen.append(len(rec))
        return [float(i) for i in index]  # the image's own index: shows rows and scores line up

    rows = rate_distortion(
        model, names, images, codecs=("webp",), sweep_bpp=(4.0,), thumb_sides=(2,), ocr=scorer
    )
    for r in rows:
        assert r.get("ocr_word_acc") == (names.index(r["image"]) if r["fits"] else None)
    assert all(n > 0 for n in seen)


@pytest.mark.slow
def test_text_rate_distortion_reads_clean_codec_pages_not_tiny_thumbnails(setup):
    from tokzoo.bench.rd import text_rate_distortion

    rows = text_rate_distortion(
        setup[0], size=128, words_per_bin=2, codecs=("webp",), sweep_bpp=(3.0,), thumb_sides=(4,)
    )
    summary = {(s["method"], s["point"]): s for s in summarize_rd(rows)}
    ceiling = next(s for s in summary.values() if s["kind"] == "reference")["ocr_word_acc"]
    assert ceiling > 0.6
    assert summary[("WebP", "3 bpp")]["ocr_word_acc"] > summary[("thumbnail", "4x4")]["ocr_word_acc"]
    assert summary[("thumbnail", "4x4")]["ocr_word_acc"] < 0.1
    fig = plot_rd(rows, "ocr_word_acc")
    assert any("ceiling" in label for label in fig.get_axes()[0].get_legend_handles_labels()[1])


@pytest.mark.slow
def test_cli_bench_rd_text_pages(setup, tmp_path, capsys):
    setup[0].save_pretrained(tmp_path / "model")
    out = tmp_path / "rd"
    argv = ["bench", "rd", "--model", str(tmp_path / "model"), "--data", "bundled:test", "--size", "64"]
    assert main([*argv, "--codecs", "webp", "--out", str(out), "--text", "--text-words", "2"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "rd.csv",
        "rd.png",
        "rd_summary.csv",
        "rd_text.csv",
        "rd_text.png",
        "rd_text_summary.csv",
    ]
    assert "rapidocr ceiling" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("tesseract") is not None, reason="needs a machine without Tesseract")
def test_cli_bench_rd_text_without_engine_fails_first(setup, tmp_path, capsys):
    setup[0].save_pretrained(tmp_path / "model")
    out = tmp_path / "rd"
    argv = ["bench", "rd", "--model", str(tmp_path / "model"), "--data", "bundled:test", "--size", "64"]
    assert main([*argv, "--out", str(out), "--text", "--text-engine", "tesseract"]) == 2
    assert "tesseract" in capsys.readouterr().err.lower()
    assert not out.exists()
