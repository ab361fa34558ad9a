"""benchmarks/reduce_code.py: equal-FLOP segmentations and causal merged evaluation (the benchmark itself runs
under `make bench`)."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import reduce_code
from tokzoo.text.lm import CausalLM, LMConfig

SPANS = torch.tensor([[0, 0, -1, 1, 1, 1, -1, -1, 2, 2, -1, -1], [-1, 3, 3, 3, 3, -1, 4, 4, 4, -1, -1, -1]])


def test_segmentations_keep_the_same_number_of_slots():
    segs = reduce_code.segmentations(SPANS, torch.Generator().manual_seed(0))
    counts = {name: reduce_code.segment_ends(s).sum(1).tolist() for name, s in segs.items()}
    assert counts["identifier"] == [8, 7]
    assert counts["random"] == counts["pool"] == counts["identifier"]
    # pooled segments differ in length by at most one
    ends = reduce_code.segment_ends(segs["pool"])[1].nonzero().flatten().tolist()
    lengths = [b - a for a, b in zip([-1, *ends[:-1]], ends, strict=True)]
    assert max(lengths) - min(lengths) <= 1


def _model() -> CausalLM:
    torch.manual_seed(0)
    return CausalLM(50, LMConfig(dim=16, depth=3, heads=2, context=12)).eval()


def test_merged_logits_without_merging_equal_the_model():
    model, ids = _model(), torch.randint(0, 50, (2, 12))
    with torch.no_grad():
        logits, tokens = reduce_code.merged_logits(model, ids, None, 1)
        torch.testing.assert_close(logits, model(ids))
        singletons, _ = reduce_code.merged_logits(model, ids, torch.full((2, 12), -1), 1)
    torch.testing.assert_close(singletons, model(ids))
    assert tokens == [12.0, 12.0, 12.0]


def test_merged_logits_are_causal_and_only_at_slot_ends():
    model, ids = _model(), torch.randint(0, 50, (2, 12))
    with torch.no_grad():
        logits, tokens = reduce_code.merged_logits(model, ids, SPANS, 1)
        changed = ids.clone()
        changed[:, 6:] = (changed[:, 6:] + 1) % 50
        later, _ = reduce_code.merged_logits(model, changed, SPANS, 1)
    ends = reduce_code.segment_ends(SPANS)
    assert torch.isnan(logits[~ends]).all() and not torch.isnan(logits[ends]).any()
    assert tokens == [12.0, 7.5, 7.5]
    # slots ending before position 6 do not see the changed tokens
    torch.testing.assert_close(logits[:, :6][ends[:, :6]], later[:, :6][ends[:, :6]])
    assert not torch.allclose(logits[:, 6:][ends[:, 6:]], later[:, 6:][ends[:, 6:]])
