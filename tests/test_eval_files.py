"""``tokzoo eval`` / ``tokzoo encode`` for SVG and mesh tokenizers on real Debian files; bad files are skipped."""

from __future__ import annotations

import json
import re
import shutil

import pytest

import tokzoo
from tokzoo.bench.eval_files import collect_files
from tokzoo.cli import main
from tokzoo.core.errors import DataError
from tokzoo.data.apt import debian_package
from tokzoo.mesh.data import mesh_files

pytestmark = pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get for the Debian data")
EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", re.IGNORECASE)
ICONS = ("libreoffice-writer", "python", "vlc")


@pytest.fixture(scope="module")
def icons(tmp_path_factory):
    """Three real Papirus icons and one corrupt SVG in a folder."""
    folder = tmp_path_factory.mktemp("icons")
    root = debian_package("papirus-icon-theme") / "usr/share/icons/Papirus/48x48/apps"
    for name in ICONS:
        shutil.copy(root / f"{name}.svg", folder / f"{name}.svg")
    (folder / "broken.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L10 10"')
    (folder / "notes.txt").write_text("not an SVG: ignored")
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Two real homedecor models and one corrupt OBJ in a folder."""
    folder = tmp_path_factory.mktemp("meshes")
    for path in mesh_files("homedecor")[1:3]:
        shutil.copy(path, folder / path.name)
    (folder / "broken.obj").write_text("v 0 0 0\nv 1 0 0\nf 1 2 7\n")
    return folder


def _eval(capsys, argv):
    code = main(["eval", *argv])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def _check_report(path, *names):
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and not EXTERNAL.search(page)
    for name in names:
        assert name in page


def test_svg_eval_measures_real_icons_and_lists_the_corrupt_file(icons, tmp_path, capsys):
    out = tmp_path / "run" / "metrics.json"
    text = _eval(capsys, ["--model", "svg-hivg-256", "--data", str(icons), "--out", str(out)])
    assert "4, 1 with a failure" in text and "failed broken.svg at parse" in text
    m = json.loads(out.read_text())
    s = m["summary"]
    assert s["num_files"] == 4 and s["num_failed"] == 1 and s["tokenized_share"] == 0.75
    assert [r["file"] for r in m["files"]] == [f"{n}.svg" for n in ICONS]
    assert [(f["file"], f["stage"]) for f in m["failures"]] == [("broken.svg", "parse")]
    assert "malformed XML" in m["failures"][0]["reason"]
    for key in ("bytes", "level1_tokens", "level2_tokens", "bits", "psnr", "ssim", "iou", "coverage_iou",
                "silhouette_iou"):  # fmt: skip
        assert set(s[key]) == {"mean", "ci95_low", "ci95_high", "n"} and s[key]["n"] == 3
    assert s["hairline_files"] == 0
    for r in m["files"]:
        assert 0 <= r["iou"] <= 1 and r["iou"] > 0.95 and 0 < r["ssim"] <= 1 and r["psnr"] > 15
        assert r["hairline"] is False and r["silhouette_iou"] == r["iou"] and 0.9 < r["coverage_iou"] <= 1
        assert r["level2_tokens"] == r["level1_tokens"]  # an unfitted tokenizer has no segments
    assert s["segments_learned"] == 0 and "no segments" in m["notes"][0]
    _check_report(out.parent / "report.html", "broken.svg", "malformed XML", "Original (left)")
    assert out.parent.joinpath("report.html").read_text().count("<img") == 3


def test_svg_eval_of_a_fitted_checkpoint_counts_fewer_level2_tokens(icons, tmp_path, capsys):
    tok = tokzoo.create("svg-hivg-256", num_segments=256)
    tok.fit(sorted(icons.glob("*.svg")))
    ckpt = tok.save_pretrained(tmp_path / "model")
    files = [str(icons / f"{n}.svg") for n in ICONS[:2]]
    out = tmp_path / "metrics.json"
    _eval(capsys, ["--model", str(ckpt), "--data", *files, "--size", "128", "--out", str(out)])
    s = json.loads(out.read_text())["summary"]
    assert s["render_size"] == 128 and s["num_failed"] == 0 and s["segments_learned"] > 0
    assert s["level2_tokens"]["mean"] < s["level1_tokens"]["mean"] and s["level1_over_level2"] > 1


def test_svg_eval_measures_a_hairline_drawing_by_its_coverage(tmp_path, capsys):
    """Strokes of 0.13 px at 256 px have no pixel above 50 % alpha: the silhouette IoU is then the coverage IoU."""
    src = tmp_path / "hairline.svg"
    src.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><path d="M10 10L90 90M10 90L90 10" '
        'stroke="black" stroke-width="0.05" fill="none"/></svg>'
    )
    out = tmp_path / "metrics.json"
    _eval(capsys, ["--model", "svg-hivg-256", "--data", str(src), "--out", str(out)])
    m = json.loads(out.read_text())
    (r,) = m["files"]
    assert r["hairline"] is True and m["summary"]["hairline_files"] == 1
    assert r["iou"] == 1.0  # neither render has a silhouette pixel: alpha > 50 % says nothing here
    assert r["silhouette_iou"] == r["coverage_iou"] < 0.9  # the 0.25-px minimum stroke width is visible


def test_mesh_eval_reports_tokens_chamfer_and_what_quantization_changed(models, tmp_path, capsys):
    out = tmp_path / "metrics.json"
    text = _eval(capsys, ["--model", "mesh-amt-q7", "--data", str(models), "--out", str(out)])
    assert "failed broken.obj at read" in text or "failed broken.obj at tokenize" in text
    m = json.loads(out.read_text())
    s = m["summary"]
    assert s["num_files"] == 3 and s["num_failed"] == 1 and len(m["files"]) == 2
    assert [f["file"] for f in m["failures"]] == ["broken.obj"]
    half_step = 0.5 / 127
    assert s["half_step"] == pytest.approx(half_step)
    for r in m["files"]:
        assert r["tokens"] == round(r["tokens_per_face"] * r["faces"]) and r["naive_tokens"] == 9 * r["faces"]
        assert 0 < r["ratio_to_naive"] < 0.6 and r["bytes"] > 0
        assert 0 < r["chamfer"] < half_step and 0 < r["max_error"] <= half_step + 1e-9
        assert r["input_faces"] >= r["faces"] and r["merged_vertices"] >= 0 and r["non_manifold_edges"] >= 0
    for key in ("tokens_per_face", "ratio_to_naive", "chamfer", "bytes_per_face"):
        assert s[key]["n"] == 2
    assert s["total_ratio_to_naive"] == pytest.approx(s["total_tokens"] / (9 * s["total_faces"]))
    _check_report(tmp_path / "report.html", "broken.obj", "merged_vertices", "non_manifold_edges")


def test_a_folder_of_only_bad_files_writes_nothing(tmp_path, capsys):
    (tmp_path / "a.obj").write_text("garbage\n")
    out = tmp_path / "run" / "metrics.json"
    code = main(["eval", "--model", "mesh-bpt-q7", "--data", str(tmp_path), "--out", str(out)])
    assert code == 2 and "none of the 1 files could be evaluated (e.g. a.obj" in capsys.readouterr().err
    assert not out.parent.exists()


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--model", "svg-hivg-256", "--rd"], "--rd applies to image tokenizers only"),
        (
            ["--model", "mesh-amt-q7", "--size", "64"],
            "tokenizers only, not to mesh",
        ),
        (["--model", "mesh-amt-q7", "--data", "no/such/dir"], "no/such/dir: no such file or folder"),
        (["--model", "vq-f8-s"], "vq-f8-s is trained with tokzoo train and has no shipped weights"),
    ],
)
def test_bad_eval_arguments_fail_in_one_line(tmp_path, capsys, argv, match):
    assert main(["eval", *argv, "--out", str(tmp_path / "m.json")]) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()


def test_collect_files_rejects_a_named_file_of_another_type(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    with pytest.raises(DataError, match=r"a\.png: not a \.svg file"):
        collect_files([str(tmp_path / "a.png")], (".svg",))
    with pytest.raises(DataError, match=r"no \.svg files in this folder"):
        collect_files([str(tmp_path)], (".svg",))


def test_cli_encode_prints_the_mesh_report(tmp_path, capsys):
    src = mesh_files("homedecor")[1]
    assert main(["encode", str(src), "--model", "mesh-amt-q7", "-o", str(tmp_path / "m.tok")]) == 0
    err = capsys.readouterr().err
    report = tokzoo.Tokens.load(tmp_path / "m.tok").meta["reports"][0]
    assert err.startswith(
        f"{src.name}: 7-bit grid, {report['input_vertices']:,} -> {report['vertices']:,} vertices"
    )
    assert f"({report['merged_vertices']:,} merged)" in err and "non-manifold edges kept" in err
    assert main(["decode", str(tmp_path / "m.tok"), "--model", "mesh-amt-q7"]) == 0


def test_cli_encode_says_which_svg_points_were_clamped(tmp_path, capsys):
    src = tmp_path / "wide.svg"
    src.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M2 2h200v20H2z"/></svg>'
    )
    assert main(["encode", str(src), "--model", "svg-hivg-256"]) == 0
    assert "wide.svg: 2 points outside the canvas clamped to the 256 grid" in capsys.readouterr().err


def test_default_data_when_no_data_is_named(tmp_path, capsys):
    from tokzoo.mesh import evaluate as eval_mesh
    from tokzoo.svg import evaluate as eval_svg

    out = tmp_path / "metrics.json"
    _eval(capsys, ["--model", "svg-hivg-256", "--out", str(out)])
    m = json.loads(out.read_text())
    assert m["data"] == eval_svg.DEFAULT_DATA and m["summary"]["num_files"] == 8 and not m["failures"]
    meshes = eval_mesh.default_files()
    assert [p.name for p in meshes[:1]] == ["bunny.obj"] and len(meshes) == 6
    assert all(p.is_file() for p in meshes)
