"""``tokzoo fit`` (Fittable tokenizers: the SVG tokenizer, a grid model's post-training bottleneck) and the
one-line refusals of ``tokzoo train`` / ``tokzoo fit`` for models without the protocol."""

import json

import pytest

import tokzoo
from tokzoo.cli import main

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M{0} 2h{1}v20H2z" fill="#{2}"/></svg>'


def _run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fit_svg_tokenizer_from_a_folder(tmp_path, capsys):
    icons = tmp_path / "icons"
    icons.mkdir()
    for i, colour in enumerate(["4caf50", "2196f3", "ff9800"]):
        (icons / f"i{i}.svg").write_text(SVG.format(2 + i, 18 - i, colour))
    code, out, _ = _run(
        capsys, ["fit", "--model", "svg-hivg-256", "--data", str(icons), "--out", str(tmp_path / "m")]
    )
    assert code == 0 and json.loads(out)["files"] == 3
    model = tokzoo.load(tmp_path / "m")
    assert model.registry_name == "svg-hivg-256" and len(model.table.expansions) > 0
    code, _, _ = _run(capsys, ["encode", str(icons / "i0.svg"), "--model", str(tmp_path / "m")])
    assert code == 0 and (icons / "i0.tok").is_file()


def test_fit_post_training_bottleneck_of_a_checkpoint(tmp_path, capsys):
    model = tokzoo.create("vq-f8-s", ch=8, quantizer="ptq", quantizer_options={"bins": 8})
    ckpt = model.save_pretrained(tmp_path / "continuous")
    argv = [
        "fit",
        "--model",
        str(ckpt),
        "--data",
        "bundled:train",
        "--size",
        "16",
        "--out",
        str(tmp_path / "ptq"),
    ]
    code, out, err = _run(capsys, argv)
    assert code == 0, err
    assert json.loads(out)["latents"] > 0
    assert tokzoo.load(tmp_path / "ptq").quantizer.is_fitted


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["train", "model=svg-hivg-256"],
            "svg-hivg-256 is not learned with tokzoo train; it supports tokzoo fit",
        ),
        (["train", "model=mesh-amt-q7"], "mesh-amt-q7 has nothing to learn"),
        (["fit", "--model", "mesh-amt-q7", "--data", ".", "--out", "x"], "mesh-amt-q7 has nothing to learn"),
        (
            ["fit", "--model", "vq-f8-s", "--data", "bundled:train", "--out", "x"],
            "only a post-training bottleneck",
        ),
        (
            ["fit", "--model", "svg-hivg-256", "--data", ".", "--size", "8", "--out", "x"],
            "--size applies to image",
        ),
    ],
)
def test_models_without_the_protocol_are_refused_in_one_line(tmp_path, capsys, argv, line):
    code, _, err = _run(capsys, [*argv, f"out_dir={tmp_path}"] if argv[0] == "train" else argv)
    assert code == 2 and line in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
