"""OpenSCAD programs to DeepCAD programs (tokzoo.cad.openscad): parser values, each primitive / transform / boolean
converted with volume IoU >= 0.999 against a direct manifold3d evaluation of the same tree, the linearisation
rules, refusals as one line naming file and line, limits, the data builder, and a parser fuzz."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tokzoo
from tokzoo.cad import data as scad_data
from tokzoo.cad import execute, volume_iou
from tokzoo.cad.openscad import convert_scad, scad_to_program
from tokzoo.cad.scad_csg import evaluate_scad
from tokzoo.cad.scad_eval import ScadError, parse_scad
from tokzoo.core.errors import DataError, LimitError


def converted_iou(text: str) -> float:
    """Volume IoU of the converted program vs the direct CSG evaluation (in normalised coordinates)."""
    scad = parse_scad(text, "t.scad")
    conv = convert_scad(scad)
    ref = evaluate_scad(scad).scale([conv.scale] * 3).translate(list(-conv.centre * conv.scale))
    return volume_iou(ref, execute(conv.program))


def booleans(text: str) -> list[int]:
    return [sk.extrude.b for sk in scad_to_program(text, "t.scad").program.sketches]


def refusal(text: str, exc: type[Exception] = ScadError) -> Exception:
    with pytest.raises(exc) as e:
        scad_to_program(text, "t.scad")
    assert "\n" not in str(e.value)
    return e.value


# -- parser -------------------------------------------------------------------------------------------------
def test_parser_values_arithmetic_and_hoisted_variables():
    f = parse_scad(
        "// a comment\ncube(size = v, center = true);  /* block\ncomment */\n"
        "a = 2; v = [1, a * 3, -a + 0.5]; w = 2 + 3 * 4 ^ 2; t = a > 1 ? sin(30) : 0;"
        "m = [max(1, 4, 2), min(3, 1), sqrt(16), abs(-2), pow(2, 3), v[1], PI, 1e-1, .5];"
        "$fn = 12; k = [1, 2] + [3, 4]; u = 2 * [1, 2] / 4; b = !(1 == 1) || true && 2 != 2;",
        "p.scad",
    )
    assert f.variables["v"] == [1.0, 6.0, -1.5] and f.variables["w"] == 50.0
    assert f.variables["t"] == pytest.approx(0.5)
    assert f.variables["m"] == [4.0, 1.0, 4.0, 2.0, 8.0, 6.0, math.pi, 0.1, 0.5]
    assert f.variables["k"] == [4.0, 6.0] and f.variables["u"] == [0.5, 1.0] and f.variables["b"] is False
    assert "$fn" not in f.variables
    (node,) = f.nodes
    assert (
        node.name == "cube"
        and node.line == 2
        and dict(node.args) == {"size": [1.0, 6.0, -1.5], "center": True}
    )


def test_parser_children_modifiers_and_special_arguments():
    f = parse_scad("translate([1, 0, 0]) { cube(1, $fn = 3); #%cylinder(h = 2, r = 1); }\n;", "p.scad")
    (t,) = f.nodes
    assert [c.name for c in t.children] == ["cube", "cylinder"]
    assert t.children[0].args == ((None, 1.0),)  # $fn dropped
    assert t.children[1].modifier == "#%"


# -- conversion vs direct CSG -----------------------------------------------------------------------------
SQUARE_WITH_HOLE = (
    "linear_extrude(height = 2) polygon(points = [[0, 0], [6, 0], [6, 4], [0, 4], [1, 1], [3, 1], [3, 3], [1, 3]],"
    " paths = [[0, 1, 2, 3], [4, 5, 6, 7]]);"
)


@pytest.mark.parametrize(
    "text",
    [
        "cube(10);",
        "cube([3, 4, 5], center = true);",
        "cylinder(h = 5, r = 2);",
        "cylinder(4, 3, 3, true);",
        "cylinder(h = 4, d = 6, center = true);",
        "linear_extrude(height = 3) square([2, 5]);",
        "linear_extrude(3, center = true) circle(d = 4);",
        "linear_extrude(height = 2) polygon([[0, 0], [4, 0], [4, 3], [2, 1], [0, 3]]);",
        SQUARE_WITH_HOLE,
        "translate([1, 2, 3]) rotate([30, 45, 60]) cube([2, 3, 4]);",
        "rotate(45) cube(2);",
        "rotate(a = 30, v = [1, 1, 0]) cylinder(h = 3, r = 1);",
        "rotate([0, 180, 0]) cylinder(h = 3, r = 1);",
        "mirror([1, 1, 0]) translate([1, 0, 0]) cube([1, 2, 3]);",
        "mirror([0, 0, 1]) cylinder(h = 2, r = 1);",
        "scale([2, 1, 3]) cube(1);",
        "rotate([0, 0, 30]) scale([2, 2, 1]) cylinder(h = 1, r = 1);",
        "difference() { cube(10, center = true); cylinder(r = 4, h = 20, center = true);"
        " rotate([0, 90, 0]) cylinder(r = 4, h = 20, center = true); }",
        "intersection() { cube(4, center = true); rotate([0, 0, 45]) cube(4, center = true); }",
        "union() { cube(2); translate([1, 1, 1]) cube(2); }",
        "difference() { union() { cube(4); translate([3, 0, 0]) cube(4); }"
        " union() { translate([1, 1, -1]) cylinder(h = 6, r = 1); translate([5, 1, -1]) cylinder(h = 6, r = 1); } }",
        "linear_extrude(2) difference() { square(4, center = true); translate([0, -2]) circle(1); }",
        "linear_extrude(1) rotate(30) translate([1, 0]) mirror([1, 0]) square(2);",
        "rotate([90, 0, 180]) translate([0, 0, 8]) cube(10, center = true);\n"
        "rotate([90, 0, 270]) translate([0, 0, 8]) cube(10, center = true);",
        'cube(2); *cube(5); %sphere(3); #translate([1, 0, 0]) color("red") cube(1); echo(1);',
        "s = [3, 1, 2]; translate(-s / 2) cube(s);",
    ],
)
def test_conversion_matches_direct_csg(text):
    assert converted_iou(text) >= 0.999


def test_a_tall_rotated_body_uses_a_symmetric_extrusion():
    conv = scad_to_program("rotate([45, 35, 0]) cube([0.2, 0.2, 10], center = true);", "t.scad")
    assert conv.program.sketches[0].extrude.u == 1
    assert converted_iou("rotate([45, 35, 0]) cube([0.2, 0.2, 10], center = true);") >= 0.999


def test_token_round_trip_of_a_converted_program_keeps_the_solid_close():
    text = "difference() { cube([20, 10, 5]); translate([5, 5, -1]) cylinder(h = 7, r = 2); }"
    scad = parse_scad(text, "t.scad")
    conv = convert_scad(scad)
    tok = tokzoo.create("cad-deepcad-q8")
    decoded = tok.decode(tok.encode([conv.program]))[0]
    ref = evaluate_scad(scad).scale([conv.scale] * 3).translate(list(-conv.centre * conv.scale))
    assert volume_iou(ref, execute(decoded)) >= 0.97


# -- linearisation ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("difference() { cube(4); union() { cube(1); translate([2, 0, 0]) cube(1); } }", [0, 2, 2]),
        ("union() { difference() { cube(4); cube(1); } translate([3, 3, 3]) cube(2); }", [0, 2, 1]),
        ("union() { translate([3, 3, 3]) cube(2); difference() { cube(4); cube(1); } }", [0, 2, 1]),
        ("intersection() { cube(3); union() { cube(2); translate([1, 1, 1]) cube(2); } }", [0, 1, 3]),
        ("difference() { difference() { cube(4); cube(1); } translate([3, 3, 3]) cube(2); }", [0, 2, 2]),
        ("intersection() { cube(3); intersection() { cube(2); translate([1, 1, 1]) cube(2); } }", [0, 3, 3]),
        ("difference() { cube(4); union() {} }", [0]),
    ],
)
def test_linearisation(text, expected):
    assert booleans(text) == expected
    assert converted_iou(text) >= 0.999


@pytest.mark.parametrize(
    "text",
    [
        "union() { difference() { cube(4); cube(1); } difference() { translate([5, 0, 0]) cube(4); cube(1); } }",
        "difference() { cube(4); difference() { cube(2); cube(1); } }",
        "intersection() { union() { cube(2); cube(1); } union() { cube(3); cube(1); } }",
    ],
)
def test_trees_that_do_not_linearise_are_refused(text):
    e = refusal(text)
    assert e.reason == "non-linearisable CSG" and str(e).startswith("t.scad:1: ")


# -- refusals -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("cube(1);\nsphere(2);", 2, "sphere"),
        ("cube(1);\nuse <lib.scad>", 2, "use"),
        ("module m() m();\n\nm();", 1, "recursion"),
        ('cube(1);\nassert(1 > 2, "too big") cube(2);', 2, "assertion failed"),
        ("cube(1);\nf = function (x) x;", 2, "function expression"),
        ("cube(1);\ncylinder(h = 1, r1 = 1, r2 = 2);", 2, "cone"),
        ("linear_extrude(height = 1, twist = 90) square(1);", 1, "linear_extrude twist"),
        ("linear_extrude(height = 1, scale = 2) square(1);", 1, "linear_extrude scale"),
        ("square(1);", 1, "2-D object without extrusion"),
        ("linear_extrude(1) cube(1);", 1, "3-D object in 2-D context"),
        ("linear_extrude(1) rotate([90, 0, 0]) square(1);", 1, "3-D transform of 2-D"),
        ("hull() { cube(1); }", 1, "hull"),
        ("multmatrix([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]) cube(1);", 1, "multmatrix"),
        ("rotate_extrude() square(1);", 1, "rotate_extrude"),
        ('import("a.stl");', 1, "import"),
        ("include <x.scad>\ncube(1);", 1, "include"),
        ("cube(1", 1, "syntax"),
        ("cube(1);\n/* unterminated", 2, "syntax"),
        ("cube(1);\ncube(x);", 2, "undefined variable"),
        ("cube([1, 2]);", 1, "arguments"),
        ("cube(size = 1, colour = 2);", 1, "arguments"),
        ("cube(1 / 0);", 1, "expression"),
        ("cube(1e300 ^ 10);", 1, "expression"),
        ("rotate([0, 45, 0]) scale([1, 1, 3]) rotate([0, 45, 0]) cube(1);", 1, "shear"),
        ("scale([2, 1, 1]) cylinder(h = 1, r = 1);", 1, "ellipse"),
        ("linear_extrude(1) polygon([[0, 0], [2, 2], [2, 0], [0, 2]]);", 1, "self-intersecting polygon"),
        ("!cube(1);", 1, "root modifier"),
        ("cube(0);\n", 1, "no solid"),
        ("a = 1;", 1, "no solid"),
        ("cube(1e-320);", 1, "no solid"),  # a denormal size: the scale to the grid overflowed into NaN values
    ],
)
def test_refusals_name_file_line_and_construct(text, line, reason):
    e = refusal(text)
    assert e.reason == reason and e.line == line
    assert str(e).startswith(f"t.scad:{line}: ")


def test_programs_over_the_command_limit_are_refused():
    text = "".join(f"translate([{2 * i}, 0, 0]) cube(1);\n" for i in range(11))  # 11 x 6 commands + EOS
    assert refusal(text).reason == "too long"
    assert len(scad_to_program(text, "t.scad", max_commands=100).program.sketches) == 11


def test_limits_are_checked_before_the_work(monkeypatch):
    monkeypatch.setenv("TOKZOO_LIMIT_SCAD_BYTES", "10")
    with pytest.raises(LimitError, match=r"t\.scad: file size in bytes 12 exceeds the limit scad_bytes=10"):
        parse_scad("cube(10000);", "t.scad")
    monkeypatch.delenv("TOKZOO_LIMIT_SCAD_BYTES")
    monkeypatch.setenv("TOKZOO_LIMIT_SCAD_NODES", "4")
    with pytest.raises(LimitError, match="syntax tokens 5 exceeds the limit scad_nodes=4"):
        parse_scad("cube(1);", "t.scad")
    monkeypatch.delenv("TOKZOO_LIMIT_SCAD_NODES")
    for deep in ("translate([0, 0, 0]) " * 5000 + "cube(1);", "cube(" + "[" * 5000 + "]" * 5000 + ");"):
        with pytest.raises(LimitError, match="nesting depth 101 exceeds the limit scad_depth=100"):
            parse_scad(deep, "t.scad")


# -- data builder -------------------------------------------------------------------------------------------
def test_builder_converts_refuses_and_skips_missing_packages(tmp_path, monkeypatch):
    root = tmp_path / "pkg"
    folder = root / "usr/share/scad"
    folder.mkdir(parents=True)
    (folder / "box.scad").write_text(
        "difference() { cube(4); translate([1, 1, -1]) cylinder(h = 6, r = 1); }"
    )
    (folder / "ball.scad").write_text("cube(1);\nsphere(1);")

    def fake_package(package, cache=None):
        if package == "missing":
            raise DataError("missing: apt-get download failed: E: Unable to locate package missing")
        return root

    monkeypatch.setattr(scad_data, "debian_package", fake_package)
    out = tmp_path / "out"
    manifest = scad_data.build_scad_set(out, {"present": "usr/share/scad", "missing": "x"})
    assert manifest["packages"] == {"present": {"files": 2, "converted": 1}}
    assert "missing" in manifest["failed"] and manifest["reasons"] == {"sphere": 1}
    files = {f["source"]: f for f in manifest["files"]}
    assert files["ball.scad"]["message"] == "ball.scad:2: sphere is not supported"
    tok = tokzoo.create("cad-deepcad-q8")
    program = tok.load_file(out / files["box.scad"]["cadseq"])
    assert tok.encode(program).num_tokens == files["box.scad"]["tokens"]
    assert json.loads((out / "manifest.json").read_text())["reasons"] == {"sphere": 1}


# -- fuzz ---------------------------------------------------------------------------------------------------
_PIECES = [
    "cube", "cylinder", "sphere", "linear_extrude", "square", "circle", "polygon", "translate", "rotate", "mirror",
    "scale", "union", "difference", "intersection", "module", "for", "x", "$fn", "(", ")", "[", "]", "{", "}", ";",
    ",", "=", "+", "-", "*", "/", "^", "?", ":", "#", "%", "!", "1", "0", "-2.5", "1e9", "true", "undef", '"s"',
    "h=", "r=", "center=true", "//c\n", "/*", "*/", "\n", " ",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=40) | st.text(max_size=60))
def test_fuzzed_programs_raise_only_data_errors(pieces):
    text = "".join(pieces)
    try:
        conv = scad_to_program(text, "f.scad")
    except DataError:
        return
    assert conv.program.sketches
