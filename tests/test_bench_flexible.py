"""benchmarks/flexible.py bookkeeping (the benchmark itself runs under `make bench`)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import flexible


def test_speed_ratio_is_tokzoo_over_peer_in_any_order():
    # regression: the ratio was taken in list order, and the peer entry comes first in the plan
    ours = flexible.Entry("titok-32-vq (peer setting)", lambda: None, [32])
    peer = flexible.Entry("peer-titok-pytorch-32", lambda: None, [32], peer=True)
    speed = {ours.key: 220.0, peer.key: 200.0}
    assert flexible.speed_ratio([peer, ours], speed) == 1.1
    assert flexible.speed_ratio([ours, peer], speed) == 1.1


def test_plan_pairs_the_peer_with_tokzoo_at_the_peers_vq():
    pytest.importorskip("titok_pytorch")  # a bench-only extra
    entries = {e.key: e for e in flexible.plan(quick=False, quantizer="fsq")}
    model = entries["titok-32-vq (peer setting)"].build()
    assert model.cfg.quantizer == "vq" and model.vocab_size == 1024
    assert entries["titok-32 (fixed, truncated)"].build().cfg.quantizer == "fsq"
