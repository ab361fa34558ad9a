"""CAD programs (tokzoo.cad): lossless round trip at the grid, idempotence, the grammar mask, kernel execution
with known volumes, quantization fidelity, and bad input with one-line errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import tokzoo
from tokzoo.cad import (
    Arc,
    CadProgram,
    Circle,
    Extrude,
    Line,
    Loop,
    Sketch,
    execute,
    from_cadseq,
    quantize_program,
    random_programs,
    to_cadseq,
    to_float_text,
    volume_iou,
)
from tokzoo.cad.grammar import CMD, VOCAB_SIZE, parse_tokens
from tokzoo.cad.program import MAX_COMMANDS
from tokzoo.core.errors import DataError

TOK = tokzoo.create("cad-deepcad-q8")
UP = Extrude(0, 0, 0, 128, 128, 128, 128, 64, 0, 0, 0)
BOX = Loop((Line(160, 96), Line(160, 160), Line(96, 160), Line(96, 96)))
PROGRAMS = random_programs(30, seed=1)


def _one_line(e: pytest.ExceptionInfo) -> str:
    assert "\n" not in str(e.value)
    return str(e.value)


def test_round_trip_is_lossless_at_the_grid_and_idempotent(tmp_path):
    quantized = [quantize_program(p) for p in PROGRAMS]
    tokens = TOK.encode(PROGRAMS)
    assert TOK.decode(tokens) == quantized
    assert [quantize_program(q) for q in quantized] == quantized
    for i, program in enumerate(TOK.decode(tokens)):
        TOK.save_file(program, tmp_path / "p.cadseq")
        again = TOK.encode(TOK.load_file(tmp_path / "p.cadseq"))
        assert again.sample(0).tolist() == tokens.sample(i).tolist()


def test_deepcad_matrix_round_trip():
    q = quantize_program(PROGRAMS[0])
    m = q.to_matrix()
    assert m.shape == (q.num_commands(), 17) and m[-1, 0] == 3 and (m[:, 1:] >= -1).all()
    assert CadProgram.from_matrix(m) == q
    assert TOK.decode(TOK.encode([m]))[0] == q


def test_tokens_are_far_fewer_than_deepcad_values():
    tokens = TOK.encode(PROGRAMS)
    values = sum(17 * quantize_program(p).num_commands() for p in PROGRAMS)
    assert int(tokens.lengths.sum()) < 0.4 * values


def test_every_token_of_a_real_program_is_allowed_by_the_mask():
    ids = TOK.encode([PROGRAMS[3]]).sample(0).tolist()
    for i, t in enumerate(ids):
        assert TOK.allowed_next(ids[:i])[t], i


def test_every_sequence_the_mask_accepts_is_a_valid_program():
    rng = np.random.default_rng(0)
    for _ in range(25):
        ids: list[int] = []
        while not ids or ids[-1] != CMD["EOS"]:
            mask = TOK.allowed_next(ids).numpy()
            assert mask.any(), ids  # a prefix the mask allowed always has a continuation
            # prefer commands that close things so that walks end; values uniformly among the allowed
            choices = np.flatnonzero(mask)
            ids.append(int(rng.choice(choices)))
        program = parse_tokens(ids)
        assert program.num_commands() <= MAX_COMMANDS
        assert TOK.encode([program]).sample(0).tolist() == ids


def test_the_mask_refuses_zero_length_curves_and_open_loops():
    prefix = [CMD["SOL"], CMD["LINE"], 10, 20, CMD["LINE"], 10]
    assert not TOK.allowed_next(prefix)[20]  # back to the same point
    assert TOK.allowed_next(prefix)[21]
    two_lines = [CMD["SOL"], CMD["LINE"], 10, 20, CMD["LINE"], 30, 40]
    mask = TOK.allowed_next(two_lines)
    assert not mask[CMD["EXT"]] and not mask[CMD["SOL"]]  # two lines enclose nothing
    assert not TOK.allowed_next([])[CMD["EOS"]]
    assert not TOK.allowed_next([CMD["SOL"], CMD["CIRCLE"], 1, 2])[0]  # radius >= 1
    with pytest.raises(DataError, match=r"token 6: value 20 is not allowed") as e:
        TOK.allowed_next([*prefix[:5], 10, 20])
    _one_line(e)


def test_kernel_volumes_of_known_solids():
    box = execute(CadProgram((Sketch((BOX,), UP),)))  # 0.5 x 0.5 x 0.5
    assert box.volume() == pytest.approx(0.125, rel=1e-6)
    hole = Loop((Circle(128, 128, 16),))  # radius 0.125, a 64-gon
    ring = execute(CadProgram((Sketch((BOX, hole), UP),)))
    gon = 0.5 * 64 * 0.125**2 * math.sin(2 * math.pi / 64)
    assert ring.volume() == pytest.approx(0.125 - gon * 0.5, rel=1e-6)
    symmetric = Extrude(0, 0, 0, 128, 128, 128, 128, 64, 0, 0, 1)
    assert execute(CadProgram((Sketch((BOX,), symmetric),))).volume() == pytest.approx(0.25, rel=1e-6)
    half_disc = Loop((Line(96, 128), Arc(160, 128, 128, 1)))  # radius 0.25, half a turn
    area = 0.5 * 64 * 0.25**2 * math.sin(2 * math.pi / 64) / 2
    assert execute(CadProgram((Sketch((half_disc,), UP),))).volume() == pytest.approx(area * 0.5, rel=1e-6)


def test_booleans_cut_and_intersect():
    cut = Extrude(0, 0, 0, 128, 128, 128, 64, 255, 0, 2, 1)  # a half-size box through everything
    a = execute(CadProgram((Sketch((BOX,), UP), Sketch((BOX,), cut))))
    assert a.volume() == pytest.approx(0.125 * 0.75, rel=1e-6)
    inter = Extrude(0, 0, 0, 128, 128, 128, 64, 255, 0, 3, 1)
    assert execute(CadProgram((Sketch((BOX,), UP), Sketch((BOX,), inter)))).volume() == pytest.approx(
        0.125 / 4, rel=1e-6
    )


def test_quantization_keeps_the_geometry():
    ious = [volume_iou(execute(p), execute(quantize_program(p))) for p in PROGRAMS[:15]]
    assert min(ious) > 0.95 and np.mean(ious) > 0.98


def test_text_forms():
    q = quantize_program(PROGRAMS[2])
    assert from_cadseq(to_cadseq(q)) == q
    text = to_float_text(q)
    assert text.startswith("sketch plane") and "extrude" in text


def test_bad_input_one_line_errors():
    bowtie = Loop((Line(96, 96), Line(160, 160), Line(160, 96), Line(96, 160)))
    with pytest.raises(DataError, match="operation 0, loop 0: the loop intersects itself") as e:
        execute(CadProgram((Sketch((bowtie,), UP),)))
    _one_line(e)
    far = Sketch((Loop((Circle(20, 20, 5),)),), Extrude(0, 0, 0, 128, 128, 128, 128, 10, 0, 3, 0))
    with pytest.raises(DataError, match="empty after this intersect"):
        execute(CadProgram((Sketch((BOX,), UP), far)))
    unbounded = Sketch((BOX,), Extrude(0, 0, 0, 128, 128, 128, 128, math.inf, 0, 0, 0))
    with pytest.raises(DataError, match="e1 is inf"):
        TOK.encode([CadProgram((unbounded,))])
    with pytest.raises(DataError, match="not finite"):
        execute(CadProgram((unbounded,)))
    nan = Sketch((Loop((Line(math.nan, 1), Line(5, 9), Line(9, 1))),), UP)
    with pytest.raises(DataError, match="not a finite number"):
        TOK.encode([CadProgram((nan,))])
    with pytest.raises(DataError, match="no operations"):
        execute(CadProgram(()))
    with pytest.raises(DataError, match="ends before EOS"):
        parse_tokens([CMD["SOL"], CMD["CIRCLE"], 1, 2, 3])
    with pytest.raises(DataError, match="more than DeepCAD's 60"):
        TOK.encode([CadProgram((Sketch(tuple(Loop((Circle(128, 128, 5 + i),)) for i in range(40)), UP),))])
    line_first = torch.tensor([[CMD["LINE"], 1, 2]])
    with pytest.raises(
        DataError, match=r"sample 0: token 0: LINE is not allowed here \(expected one of SOL\)"
    ):
        TOK.decode(tokzoo.Tokens(line_first, torch.tensor([3]), VOCAB_SIZE, "seq1d", (), {}))
    with pytest.raises(DataError, match="unknown command"):
        from_cadseq("SOL\nSPLINE 1 2\n")
