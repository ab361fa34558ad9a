"""Every registered tokenizer, generically (timm's test_models): create, encode/decode at its declared input,
``.tok`` round trip, save/load, and one training step for the Trainable ones. Models of more than
``FAST_PARAMS`` parameters run under ``-m slow``."""

import pytest
import torch

import tokzoo
from tokzoo.core.modality import get_modality
from tokzoo.core.protocols import Codec, Fittable, Trainable
from tokzoo.core.tokens import Tokens

FAST_PARAMS = 3_000_000


def _params(name: str) -> int:
    with torch.device("meta"):
        return tokzoo.create(name).num_parameters()


NAMES = [
    pytest.param(n, marks=pytest.mark.slow) if _params(n) > FAST_PARAMS else n for n in tokzoo.list_models()
]


@pytest.mark.parametrize("name", NAMES)
def test_registered_model(name, tmp_path):
    """Codec round trip at the declared input, ``.tok``, save_file, save/load; one step if Trainable."""
    torch.manual_seed(0)
    model = tokzoo.create(name).eval()
    assert isinstance(model, Codec) and get_modality(model.modality).name == model.modality
    x = model.example_input()
    # a post-training grid (ptq, kl with store_bins) codes once fitted
    if getattr(getattr(model, "quantizer", None), "fittable", False):
        model.fit(torch.rand(8, *x.shape[1:]))
    with torch.no_grad():
        tokens = model.encode(x)
        assert len(tokens) == 2 and tokens.meta["tokenizer"] == name
        if model.vocab_size is not None:
            assert tokens.vocab_size == model.vocab_size and int(tokens.ids.max()) < model.vocab_size
        items = list(model.decode(tokens))
        assert len(items) == 2
        back = Tokens.from_bytes(tokens.to_bytes())
        assert back.equal(tokens) and back.nbits() == tokens.nbits()
        for k in model.token_counts()[:2]:
            assert int(model.encode(x, num_tokens=k).lengths.max()) <= k
        out = tmp_path / f"item{get_modality(model.modality).suffixes[0]}"
        model.save_file(items[0], out)
        assert out.is_file() and out.stat().st_size > 0
        loaded = tokzoo.load(model.save_pretrained(tmp_path / "ckpt"))
        assert loaded.registry_name == name and loaded.cfg == model.cfg and loaded.encode(x).equal(tokens)
    if not isinstance(model, Trainable):
        assert isinstance(model, Fittable) or model.num_parameters() == 0
        return
    model.train()
    loss, logs = model.loss(x)
    loss.backward()
    # A continuous bottleneck has no codebook: its codebook statistics are NaN by contract (tokzoo.quant.kl).
    codebook_keys = {"usage", "perplexity", "entropy_bits"} if model.vocab_size is None else set()
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert all(torch.isfinite(torch.as_tensor(v)) for k, v in logs.items() if k not in codebook_keys), logs
    assert all(torch.isnan(torch.as_tensor(logs[k])) for k in codebook_keys & logs.keys()), logs
    assert any(p.grad is not None for p in model.parameters())
