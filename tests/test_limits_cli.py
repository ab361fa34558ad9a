"""The limit policy from the command line: one-line errors naming file, limit and fix; ``--limit`` raises it."""

from __future__ import annotations

import pytest

from tokzoo.cli import main
from tokzoo.core.limits import Limits, get_limits

NS = 'xmlns="http://www.w3.org/2000/svg"'


@pytest.fixture
def deep_svg(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKZOO_LIMIT_SVG_DEPTH", str(Limits().svg_depth))  # restored after the test
    path = tmp_path / "deep.svg"
    path.write_text(
        f'<svg {NS} viewBox="0 0 10 10">{"<g>" * 250}<path d="M0 0 L5 5 L5 0Z"/>{"</g>" * 250}</svg>'
    )
    return path


def test_exceeded_limit_is_one_line_naming_file_limit_and_fix(deep_svg, capsys):
    assert main(["encode", str(deep_svg), "--model", "svg-hivg-128"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{deep_svg}: element nesting depth 201 exceeds the limit svg_depth=200" in err
    assert "TOKZOO_LIMIT_SVG_DEPTH=N or tokzoo --limit svg_depth=N" in err


def test_limit_option_raises_the_limit(deep_svg, capsys):
    assert main(["--limit", "svg_depth=300", "encode", str(deep_svg), "--model", "svg-hivg-128"]) == 0
    assert get_limits().svg_depth == 300


@pytest.mark.parametrize("bad", ["nosuch=3", "svg_depth=-1", "svg_depth=abc", "svg_depth"])
def test_bad_limit_options_are_one_line_errors(bad, deep_svg, capsys):
    assert main(["--limit", bad, "list"]) == 2
    assert capsys.readouterr().err.startswith("tokzoo: error: ")


def test_defaults_keep_one_input_small():
    limits = Limits()
    assert limits.tok_ids * 8 <= 2**30 and limits.image_pixels * 3 * 4 <= 2**30
