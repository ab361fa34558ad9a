"""Primitive-level CAD tokens (cad-prim-q8): lossless round trips, compression learned on a training split, the
lifted constrained-decoding mask, save/load, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tokzoo
from tokzoo.cad import quantize_program, random_program, random_programs
from tokzoo.cad.grammar import CMD, VOCAB_SIZE, program_tokens
from tokzoo.cad.primitives import operation_units
from tokzoo.core.errors import CheckpointError, ConfigError, DataError, TokenSequenceError
from tokzoo.core.tokens import Tokens

TRAIN = random_programs(300, seed=1)
TEST = random_programs(40, seed=0)
BASE = tokzoo.create("cad-deepcad-q8")


def fitted(**options):
    model = tokzoo.create("cad-prim-q8", **options)
    counts = model.fit(TRAIN)
    assert counts["programs"] == 300 and counts["skipped"] == 0 and counts["segments"] > 0
    return model


MODEL = fitted()


def test_units_are_the_grammar_tokens_grouped_by_operation():
    for p in TEST[:10]:
        q = quantize_program(p)
        ops = operation_units(q)
        assert len(ops) == len(q.sketches)
        assert [a for units in ops for u in units for a in u] + [CMD["EOS"]] == program_tokens(q)
        assert all(units[0] == (CMD["SOL"],) for units in ops)


def test_unfitted_model_writes_the_grammar_tokens():
    fresh = tokzoo.create("cad-prim-q8")
    for p in TEST[:5]:
        assert fresh.encode(p).sample(0).tolist() == BASE.encode(p).sample(0).tolist()


def test_round_trip_is_lossless_and_learned_tokens_compress_held_out_programs():
    tokens = MODEL.encode(TEST)
    assert tokens.vocab_size == 4096 and int(tokens.ids.max()) >= VOCAB_SIZE
    assert MODEL.decode(tokens) == [quantize_program(p) for p in TEST]
    assert int(tokens.lengths.sum()) < 0.85 * int(BASE.encode(TEST).lengths.sum())
    for i in range(len(TEST)):
        assert MODEL.grammar_tokens(tokens.sample(i).tolist()) == BASE.encode(TEST[i]).sample(0).tolist()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_any_generated_program_round_trips(seed):
    program = random_program(np.random.default_rng(seed))
    tokens = MODEL.encode(program)
    assert MODEL.decode(tokens)[0] == quantize_program(program)
    assert MODEL.encode(MODEL.decode(tokens)[0]).sample(0).tolist() == tokens.sample(0).tolist()


def test_save_and_load_keep_the_learned_tokens(tmp_path):
    MODEL.save_pretrained(tmp_path / "prim")
    loaded = tokzoo.load(tmp_path / "prim")
    assert torch.equal(loaded.encode(TEST).ids, MODEL.encode(TEST).ids)
    assert loaded.decode(MODEL.encode(TEST)) == MODEL.decode(MODEL.encode(TEST))
    state = dict(MODEL.state_dict())
    state["atom_count"] = torch.tensor(VOCAB_SIZE - 1)
    with pytest.raises(CheckpointError, match="refit"):
        tokzoo.create("cad-prim-q8").load_state_dict(state)


def test_every_token_of_a_program_is_allowed_by_the_lifted_mask():
    for p in TEST[:3]:
        ids = MODEL.encode(p).sample(0).tolist()
        for i, t in enumerate(ids):
            mask = MODEL.allowed_next(ids[:i])
            assert mask[t], i
            assert not mask[VOCAB_SIZE + len(MODEL.table.expansions) :].any()  # unused ids never
        assert not MODEL.allowed_next(ids).any()  # nothing after EOS
    # A learned token is allowed exactly when the grammar takes each of its tokens in turn.
    starts_with_sol = [k for k, e in enumerate(MODEL.table.expansions) if e[0] == CMD["SOL"]]
    mask = MODEL.allowed_next([])
    assert starts_with_sol and all(mask[VOCAB_SIZE + k] for k in starts_with_sol)
    assert not any(
        mask[VOCAB_SIZE + k] for k, e in enumerate(MODEL.table.expansions) if e[0] < VOCAB_SIZE - 6
    )


def test_every_walk_the_lifted_mask_accepts_is_a_valid_program():
    rng = np.random.default_rng(0)
    for _ in range(10):
        ids: list[int] = []
        while not ids or ids[-1] != CMD["EOS"]:
            mask = MODEL.allowed_next(ids).numpy()
            assert mask.any(), ids
            learned = np.flatnonzero(mask[VOCAB_SIZE:]) + VOCAB_SIZE
            pool = learned if len(learned) and rng.random() < 0.7 else np.flatnonzero(mask)
            ids.append(int(rng.choice(pool)))
        program = MODEL.decode(Tokens.from_ids(torch.tensor([ids]), MODEL.vocab_size, "seq1d", ()))[0]
        assert MODEL.decode(MODEL.encode(program))[0] == program


def test_cli_fits_on_cadseq_files_and_round_trips_a_file(tmp_path, capsys, caplog):
    from tokzoo.cad import to_cadseq
    from tokzoo.cli import main

    data = tmp_path / "train"
    data.mkdir()
    for i, p in enumerate(TRAIN[:60]):
        (data / f"p{i}.cadseq").write_text(to_cadseq(quantize_program(p)))
    (data / "broken.cadseq").write_text("LINE 1 2\n")
    main(["fit", "--model", "cad-prim-q8", "--data", str(data), "--out", str(tmp_path / "m")])
    assert '"programs": 60, "skipped": 1' in capsys.readouterr().out
    assert "cad fit: skipping" in caplog.text and "broken.cadseq" in caplog.text
    main(
        ["encode", str(data / "p3.cadseq"), "--model", str(tmp_path / "m"), "--out", str(tmp_path / "p.tok")]
    )
    main(
        [
            "decode",
            str(tmp_path / "p.tok"),
            "--model",
            str(tmp_path / "m"),
            "--out",
            str(tmp_path / "p.cadseq"),
        ]
    )
    assert (tmp_path / "p.cadseq").read_text() == (data / "p3.cadseq").read_text()


def test_programs_the_grammar_refuses_are_refused_and_not_learned_from():
    from dataclasses import replace

    q = quantize_program(TEST[0])
    first = q.sketches[0]
    joined = replace(q, sketches=(replace(first, extrude=replace(first.extrude, b=1)), *q.sketches[1:]))
    with pytest.raises(DataError, match="expected EXT's b") as grammar:
        BASE.encode(joined)
    with pytest.raises(DataError, match="expected EXT's b") as primitive:
        MODEL.encode(joined)
    assert str(primitive.value) == str(grammar.value)
    counts = tokzoo.create("cad-prim-q8").fit([joined, joined, *TRAIN[:20]])
    assert counts["programs"] == 20 and counts["skipped"] == 2


def test_refusals_name_the_position():
    ids = MODEL.encode(TEST[0]).sample(0).tolist()
    unused = VOCAB_SIZE + len(MODEL.table.expansions)
    with pytest.raises(TokenSequenceError, match=rf"token 1: id {unused} is an unused segment id"):
        MODEL.grammar_tokens([ids[0], unused])
    bad = Tokens.from_ids(torch.tensor([ids[:-1]]), MODEL.vocab_size, "seq1d", ())
    with pytest.raises(DataError, match=rf"sample 0: token {len(ids) - 1}: the sequence ends before EOS"):
        MODEL.decode(bad)
    with pytest.raises(DataError, match="over 4096 ids"):
        MODEL.decode(BASE.encode(TEST[0]))
    with pytest.raises(DataError, match="none of the 1 training programs"):
        tokzoo.create("cad-prim-q8").fit(["not a program"])
    with pytest.raises(ConfigError, match="num_segments"):
        tokzoo.create("cad-prim-q8", num_segments=-1)
