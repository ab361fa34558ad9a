"""The SVG grammar's ``allowed_next`` mask during AR sampling: every finished sample is a valid SVG program,
while the same prior sampled without the mask produces invalid ones."""

import xml.etree.ElementTree as ET

import torch

import tokzoo
from tokzoo.core.errors import TokzooError
from tokzoo.prior.ar import ARPrior
from tokzoo.prior.ar_sample import sample_ar
from tokzoo.prior.config import PriorConfig
from tokzoo.svg.vocab import Vocab


def _decodes(model, ids) -> bool:
    try:
        ET.fromstring(model.decode_ids(ids))
    except (TokzooError, ET.ParseError, ValueError):
        return False
    return True


def test_grammar_mask_never_emits_invalid_svg():
    model = tokzoo.create("svg-hivg-128")
    torch.manual_seed(0)
    cfg = PriorConfig(
        layout="seq1d", shape=[], length=64, vocab_size=model.vocab_size, dim=32, depth=1, heads=2
    )
    prior = ARPrior(cfg).eval()
    s = sample_ar(prior, 24, allowed_next=model.allowed_next, generator=torch.Generator().manual_seed(0))
    assert int(s.ended.sum()) >= 8
    for i in torch.nonzero(s.ended)[:, 0].tolist():
        ids = s.ids[i, : s.lengths[i]].tolist()
        assert ids and ids[-1] == Vocab.END and _decodes(model, ids)
    free = sample_ar(prior, 24, generator=torch.Generator().manual_seed(0))
    assert not all(_decodes(model, free.ids[i, : free.lengths[i]].tolist()) for i in range(24))
