"""benchmarks/reduce_code.py: equal-FLOP segmentations and causal merged evaluation (the benchmark itself runs
under `make bench`)."""

import statistics
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

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


def _code_data(tokens: int, seed: int) -> reduce_code.CodeData:
    """A toy code stream: identifiers of 2–3 sub-tokens (ids 10–49, one span id per occurrence) separated by
    one-token operators (ids 1–5)."""
    gen = torch.Generator().manual_seed(seed)
    lexicon = [[10 + 3 * i, 11 + 3 * i, 12 + 3 * i][: 2 + i % 2] for i in range(13)]
    ids: list[int] = []
    spans: list[int] = []
    while len(ids) < tokens:
        word = lexicon[int(torch.randint(len(lexicon), (1,), generator=gen))]
        spans += [len(spans)] * len(word) + [-1]
        ids += [*word, 1 + len(ids) % 5]
    return reduce_code.CodeData(
        np.asarray(ids[:tokens]),
        np.asarray(spans[:tokens]),
        np.asarray(ids[:tokens]),
        np.asarray(spans[:tokens]),
        50,
    )


def _merged_loss(model: CausalLM, data: reduce_code.CodeData, segmentation: str, level: int) -> float:
    ids, spans = reduce_code.windows(data.test, data.test_spans, 13)
    seg = reduce_code.segmentations(spans[:, :-1], torch.Generator().manual_seed(0))[segmentation]
    with torch.no_grad():
        logits, _ = reduce_code.merged_logits(model, ids[:, :-1], seg, level)
    ends = reduce_code.segment_ends(seg)
    return float(F.cross_entropy(logits[ends], ids[:, 1:][ends]))


@pytest.mark.parametrize(("segmentation", "level"), [("identifier", 0), ("random", 2)])
def test_finetune_with_merging_lowers_the_merged_loss(segmentation, level):
    data, model = _code_data(4000, 0), _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loss_before = _merged_loss(model, data, segmentation, level)
    tuned, losses = reduce_code.finetune(
        model, data, seed=0, steps=40, segmentation=segmentation, level=level
    )
    assert len(losses) == 40 and not tuned.training
    # the base model is untouched; the copy's weights moved
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert any(not torch.equal(before[k], v) for k, v in tuned.state_dict().items())
    assert tuned.cfg == model.cfg
    assert _merged_loss(tuned, data, segmentation, level) < 0.8 * loss_before
    assert statistics.mean(losses[-5:]) < statistics.mean(losses[:5])


def test_finetune_unmerged_control_trains_every_position():
    data, model = _code_data(4000, 0), _model()
    ids, _ = reduce_code.windows(data.test, data.test_spans, 13)

    def loss(m: CausalLM) -> float:
        with torch.no_grad():
            return float(F.cross_entropy(m(ids[:, :-1]).flatten(0, 1), ids[:, 1:].flatten()))

    tuned, _ = reduce_code.finetune(model, data, seed=0, steps=40, segmentation=None)
    assert loss(tuned) < 0.8 * loss(model)
