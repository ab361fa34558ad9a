"""The OpenSCAD evaluator (tokzoo.cad.scad_eval): scopes and OpenSCAD's assignment rule, modules with children,
functions, loops, conditionals, list comprehensions and ranges as known values; programs with loops and modules
convert to the same CAD program as their hand-unrolled text and match a direct kernel evaluation; work bounded."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokzoo.cad import execute, volume_iou
from tokzoo.cad.openscad import convert_scad, scad_to_program
from tokzoo.cad.scad_csg import evaluate_scad
from tokzoo.cad.scad_eval import ScadError, ScadRange, parse_scad
from tokzoo.core.errors import DataError, LimitError


def variables(text: str) -> dict:
    return parse_scad(text, "t.scad").variables


def tree(node) -> tuple:
    """A node as nested tuples (name, args, children) for comparing trees."""
    return (node.name, node.args, tuple(tree(c) for c in node.children), node.modifier)


# -- values ---------------------------------------------------------------------------------------------------
def test_ranges_comprehensions_and_let():
    v = variables(
        "r = [0 : 3]; s = [1 : 0.5 : 2]; back = [3 : 0]; empty = [0 : -1 : 2];"
        "sq = [for (i = [1 : 4]) i * i]; ev = [for (i = [0 : 9]) if (i % 2 == 0) i];"
        "pairs = [for (i = [0 : 1], j = [5, 6]) [i, j]]; flat = [0, each [1, 2], for (k = [3 : 4]) k];"
        "lt = let (a = 2, b = a * 3) a + b; sign = [for (x = [-1, 2]) x > 0 ? 1 : -1];"
        "ie = [for (i = [0 : 3]) if (i < 2) i else -i]; gl = [for (i = [1 : 2]) let (d = i * 10) d + i];"
        'chars = [for (c = "ab") c]; xyz = [4, 5, 6].y;'
    )
    assert v["r"] == ScadRange(0.0, 1.0, 3.0) and v["r"].values() == [0.0, 1.0, 2.0, 3.0]
    assert v["s"].values() == [1.0, 1.5, 2.0] and v["back"].values() == [0.0, 1.0, 2.0, 3.0]
    assert v["empty"].values() == []
    assert v["sq"] == [1.0, 4.0, 9.0, 16.0] and v["ev"] == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert v["pairs"] == [[0.0, 5.0], [0.0, 6.0], [1.0, 5.0], [1.0, 6.0]]
    assert v["flat"] == [0.0, 1.0, 2.0, 3.0, 4.0] and v["lt"] == 8.0 and v["sign"] == [-1.0, 1.0]
    assert v["ie"] == [0.0, 1.0, -2.0, -3.0] and v["gl"] == [11.0, 22.0]
    assert v["chars"] == ["a", "b"] and v["xyz"] == 5.0


def test_functions_recursion_and_builtins():
    v = variables(
        "function sum(v, i = 0) = i >= len(v) ? 0 : v[i] + sum(v, i + 1);"
        "function fact(n) = n <= 1 ? 1 : n * fact(n - 1);"
        "function add(a, b = 10) = a + b;"
        "s = sum([1, 2, 3, 4]); f = fact(5); d = add(1); n = add(b = 1, a = 2);"
        'b = [len([1, 2, 3]), len("abcd"), floor(2.7), ceil(2.1), round(2.5), round(-2.5), sign(-3),'
        " norm([3, 4]), atan2(1, 1), max([3, 9, 2]), min(4, 2), lookup(1.5, [[1, 10], [2, 20]]), exp(0), ln(1)];"
        'c = concat([1, 2], [3], 4); x = cross([1, 0, 0], [0, 1, 0]); t = str("n=", 3, " ", [1, 2.5], true);'
        "m = [[1, 2], [3, 4]] * [1, 1]; dot = [1, 2, 3] * [4, 5, 6]; u = is_undef(undef) && is_num(1) && !is_list(1);"
        'oob = [1, 2][5]; eq = [1 == true, [1, [2]] == [1, [2]], "a" != "a", undef == undef, 0 == false];'
    )
    assert (v["s"], v["f"], v["d"], v["n"]) == (10.0, 120.0, 11.0, 3.0)
    assert v["b"][:7] == [3.0, 4.0, 2.0, 3.0, 3.0, -3.0, -1.0]
    assert v["b"][7:] == pytest.approx([5.0, 45.0, 9.0, 2.0, 15.0, 1.0, 0.0])
    assert v["c"] == [1.0, 2.0, 3.0, 4.0] and v["x"] == [0.0, 0.0, 1.0] and v["t"] == "n=3 [1, 2.5]true"
    assert v["m"] == [3.0, 7.0] and v["dot"] == 32.0 and v["u"] is True and v["oob"] is None
    assert v["eq"] == [False, True, False, True, False]


def test_a_variable_assigned_twice_takes_the_last_value_at_the_first_place():
    # OpenSCAD: "x = 1; y = x; x = 2;" gives y = 2 (the last assignment, evaluated where the first one was)
    assert variables("x = 1; y = x; x = 2;") == {"x": 2.0, "y": 2.0}


def test_scopes_are_lexical_and_special_variables_dynamic():
    f = parse_scad(
        "a = 1;\nmodule m() { b = a + 1; cube(b * $k); }\n"
        "module outer() { a = 5; m(); }\n"  # m sees the a where it was defined (1), not outer's
        '$k = 2; outer(); m($k = 3); color("red") { a = 7; cube(a); } cube(a);',
        "t.scad",
    )
    first, second, coloured, last = f.nodes
    assert [n.args[0][1] for n in (first, second, coloured.children[0], last)] == [4.0, 6.0, 7.0, 1.0]
    # an anonymous block is no scope in OpenSCAD: its assignment is the file's (last value wins)
    assert variables("a = 1; { a = 7; } b = a;") == {"a": 7.0, "b": 7.0}


# -- modules, children, loops ----------------------------------------------------------------------------------
def test_modules_with_defaults_children_and_child_count():
    f = parse_scad(
        "module box(s = 2, c = false) cube(s, center = c);\n"
        "module frame() { translate([$children, 0, 0]) children(0); rotate(90) children([1 : 2]); }\n"
        "box(); box(3, c = true); frame() { box(1); box(4); box(5); }",
        "t.scad",
    )
    a, b, fr = f.nodes
    assert tree(a) == ("cube", ((None, 2.0), ("center", False)), (), "")
    assert tree(b) == ("cube", ((None, 3.0), ("center", True)), (), "")
    (t, r) = fr.children
    assert fr.name == "group" and t.name == "translate" and dict(t.args)[None] == [3.0, 0.0, 0.0]
    assert [c.args[0][1] for c in r.children] == [4.0, 5.0]


def test_loops_and_conditionals_group_their_objects():
    f = parse_scad(
        "for (i = [0 : 2]) translate([i, 0, 0]) cube(1);\n"
        "intersection_for (a = [0, 45]) rotate(a) cube(1);\n"
        "if (1 > 2) cube(9); else { cube(1); cube(2); }\n"
        "#let (n = 3) cube(n);\nfor (i = []) cube(1);\nif (false) cube(1);",
        "t.scad",
    )
    loop, inter, branch, let = f.nodes
    assert loop.name == "group" and [dict(c.args)[None][0] for c in loop.children] == [0.0, 1.0, 2.0]
    assert inter.name == "intersection" and len(inter.children) == 2
    assert branch.name == "group" and [c.args[0][1] for c in branch.children] == [1.0, 2.0]
    assert tree(let) == ("cube", ((None, 3.0),), (), "#")


# -- through the converter: the same program as the unrolled text, and the kernel agrees -------------------
_LOOPED = """
module post(x, y, h = 8) translate([x, y, 0]) cylinder(h = h, r = 1);
function corners(w) = [for (sx = [-1, 1], sy = [-1, 1]) [sx * w, sy * w]];
difference() {
    cube([20, 20, 4], center = true);
    for (p = corners(7)) post(p[0], p[1], h = 10);
}
"""
_UNROLLED = """
difference() {
    cube([20, 20, 4], center = true);
    translate([-7, -7, 0]) cylinder(h = 10, r = 1);
    translate([-7, 7, 0]) cylinder(h = 10, r = 1);
    translate([7, -7, 0]) cylinder(h = 10, r = 1);
    translate([7, 7, 0]) cylinder(h = 10, r = 1);
}
"""


def test_loops_and_modules_convert_like_their_unrolled_text():
    looped, unrolled = scad_to_program(_LOOPED, "l.scad"), scad_to_program(_UNROLLED, "u.scad")
    assert looped.program == unrolled.program
    assert [sk.extrude.b for sk in looped.program.sketches] == [0, 2, 2, 2, 2]


def test_a_module_of_several_objects_is_one_operand():
    # difference() { m(); cube(...) } subtracts from *both* of m's objects (an implicit union), not m1 - m2 - c
    text = (
        "module two() { cube([4, 4, 4]); translate([6, 0, 0]) cube([4, 4, 4]); }\n"
        "difference() { two(); translate([-1, 1, 1]) cube([12, 2, 2]); }"
    )
    scad = parse_scad(text, "t.scad")
    conv = convert_scad(scad)
    ref = evaluate_scad(scad).scale([conv.scale] * 3).translate(list(-conv.centre * conv.scale))
    assert volume_iou(ref, execute(conv.program)) > 0.999
    assert ref.volume() > 0 and math.isclose(ref.volume(), 2 * (64 - 16) * conv.scale**3, rel_tol=1e-6)


# -- bounds ---------------------------------------------------------------------------------------------------
def test_work_is_bounded_before_it_grows(monkeypatch):
    with pytest.raises(LimitError, match="scad_steps"):
        parse_scad("for (i = [0 : 1e12]) cube(1);", "t.scad")
    with pytest.raises(LimitError, match="scad_steps"):  # a step too small to count (was an OverflowError)
        parse_scad("for (i = [0 : 1e-320 : 1]) cube(1);", "t.scad")
    with pytest.raises(ScadError, match="a range bound must be a finite number, got inf"):
        parse_scad("x = [0 : 1 : 1e308 * 10];", "t.scad")
    monkeypatch.setenv("TOKZOO_LIMIT_SCAD_STEPS", "100000")
    start = time.perf_counter()
    with pytest.raises(LimitError, match=r"evaluation steps .* exceeds the limit scad_steps=100,000"):
        parse_scad("module a(n) if (n > 0) { a(n - 1); a(n - 1); } else cube(1);\na(40);", "t.scad")
    assert time.perf_counter() - start < 20
    with pytest.raises(
        ScadError, match=r"t\.scad:1: function f\(\): calls nest deeper than the limit scad_calls"
    ):
        parse_scad("function f(n) = f(n + 1);\nx = f(0);", "t.scad")
    monkeypatch.setenv("TOKZOO_LIMIT_SCAD_STEPS", "50")
    with pytest.raises(LimitError, match="scad_steps=50"):
        parse_scad("v = [for (i = [0 : 100]) i];", "t.scad")


def test_errors_name_the_file_and_line():
    with pytest.raises(ScadError, match=r"^t\.scad:2: assertion failed: too big$"):
        parse_scad('cube(1);\nassert(false, "too big");', "t.scad")
    with pytest.raises(ScadError, match=r"^t\.scad:1: function call rands\(\) is not supported$"):
        parse_scad("x = rands(0, 1, 3);", "t.scad")
    with pytest.raises(ScadError, match=r"^t\.scad:1: len\(\): expected one argument$"):
        parse_scad("x = len(1, 2);", "t.scad")
    with pytest.raises(ScadError, match=r"^t\.scad:3: else without if$"):
        parse_scad("cube(1);\n\nelse cube(2);", "t.scad")


# -- fuzz: well-formed programs of the evaluated language raise only one-line data errors ----------------------
_EXPR = st.recursive(
    st.sampled_from(
        [
            "0",
            "1",
            "-2.5",
            "n",
            "i",
            "true",
            "undef",
            '"s"',
            "[1, 2, 3]",
            "[0 : 2]",
            "PI",
            "v",
            "1e308",
            "1e-320",
        ]
    ),
    lambda e: st.one_of(
        st.tuples(e, st.sampled_from(["+", "-", "*", "/", "%", "^", "<", "==", "&&"]), e).map(" ".join),
        st.tuples(e, e, e).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
        e.map(lambda x: f"[for (i = {x}) i]"),
        e.map(lambda x: f"[{x}, each {x}]"),
        e.map(lambda x: f"f({x})"),
        e.map(lambda x: f"len({x})"),
        e.map(lambda x: f"({x})[1]"),
        e.map(lambda x: f"let (n = {x}) n"),
        st.tuples(e, e, e).map(lambda t: f"[{t[0]} : {t[1]} : {t[2]}]"),
    ),
    max_leaves=6,
)
_STMT = st.recursive(
    st.one_of(
        _EXPR.map(lambda x: f"cube({x});"),
        _EXPR.map(lambda x: f"m({x});"),
        st.just("children();"),
        _EXPR.map(lambda x: f"translate([{x}, 0, 0]) cube(1);"),
    ),
    lambda s: st.one_of(
        st.tuples(_EXPR, s).map(lambda t: f"for (i = {t[0]}) {t[1]}"),
        st.tuples(_EXPR, s, s).map(lambda t: f"if ({t[0]}) {t[1]} else {t[2]}"),
        st.tuples(s, s).map(lambda t: f"difference() {{ {t[0]} {t[1]} }}"),
        st.tuples(_EXPR, s).map(lambda t: f"let (n = {t[0]}) {t[1]}"),
        st.tuples(_EXPR, s).map(lambda t: f"m({t[0]}) {t[1]}"),
    ),
    max_leaves=5,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_EXPR, _EXPR, _STMT, _STMT)
def test_fuzzed_programs_of_the_language_raise_only_data_errors(fbody, v, mbody, top):
    text = f"function f(n) = {fbody};\nv = {v};\nmodule m(n = 1) {{ {mbody} }}\n{top}\n"
    try:
        conv = scad_to_program(text, "f.scad")
    except DataError as e:
        assert "\n" not in str(e)
        return
    assert conv.program.sketches and np.isfinite(conv.program.to_matrix()).all() and math.isfinite(conv.scale)
