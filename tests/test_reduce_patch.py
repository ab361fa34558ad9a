"""tokzoo.reduce.patch on tokzoo's ViT blocks, a plain torch.nn ViT and a tokzoo tokenizer: unchanged at 100 %,
mixed budgets inside the model equal per-sample runs, unmerge restores dense outputs, remove() restores."""

import pytest
import torch
from torch import nn

import tokzoo
from tokzoo.core.errors import ConfigError
from tokzoo.nn.transformer import Transformer
from tokzoo.reduce import patch
from tokzoo.reduce.patch import flops_ratio

METHODS = ["random", "pool", "tome", "attention", "visionzip", "divprune", "adatoken3d", "segpruner"]


def _models() -> dict[str, nn.Module]:
    torch.manual_seed(0)
    pre = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True, norm_first=True)
    post = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
    return {
        "tokzoo": Transformer(32, 3, 4).eval(),
        "torch-prenorm": nn.TransformerEncoder(pre, 3, enable_nested_tensor=False).eval(),
        "torch-postnorm": nn.TransformerEncoder(post, 3, enable_nested_tensor=False).eval(),
    }


MODELS = _models()
X = torch.randn(3, 65, 32, generator=torch.Generator().manual_seed(1))
POINTS = torch.randn(3, 65, 3, generator=torch.Generator().manual_seed(2))


def _run(model, name, keep, **options):
    handle = patch(model, name, keep, protected=1, **options)
    if name == "segpruner":
        handle.set_context(points=POINTS)
    try:
        with torch.no_grad():
            return model(X), handle
    finally:
        handle.remove()


@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.parametrize("name", METHODS)
def test_full_budget_changes_nothing(kind, name):
    model = MODELS[kind]
    with torch.no_grad():
        reference = model(X)
    out, _ = _run(model, name, 1.0)
    torch.testing.assert_close(out, reference, rtol=0, atol=0)
    with torch.no_grad():
        torch.testing.assert_close(model(X), reference, rtol=0, atol=0)  # removed


@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.parametrize("name", METHODS)
def test_mixed_budgets_inside_the_model_equal_single_runs(kind, name):
    model = MODELS[kind]
    budgets = [65, 33, 17]
    mixed, _ = _run(model, name, torch.tensor(budgets), unmerge=True)
    assert mixed.shape == X.shape
    for b, k in enumerate(budgets):
        alone, _ = _run(model, name, k, unmerge=True)
        # same tokens kept and the same outputs: the padding is invisible to the real tokens
        torch.testing.assert_close(mixed[b], alone[b], atol=1e-5, rtol=1e-5)


def test_reduced_model_runs_fewer_tokens_and_reports_them():
    out, handle = _run(MODELS["tokzoo"], "tome", 17)
    assert out.shape == (3, 17, 32)
    counts = handle.tokens_per_block
    assert counts[0] < 65 and counts[-1] == 17 and counts == sorted(counts, reverse=True)
    assert 0 < flops_ratio(counts, 65, 32) < 1 and flops_ratio([65] * 3, 65, 32) == 1
    assert handle.selection_seconds > 0


def test_fastvggt_keeps_the_residual_stream_dense():
    model = MODELS["tokzoo"]
    with torch.no_grad():
        reference = model(X)
    handle = patch(model, "fastvggt", 40, protected=1, dst_ratio=0.0)
    handle.set_context(reference=13)
    with torch.no_grad():
        out = model(X)
    handle.remove()
    assert out.shape == X.shape and not torch.allclose(out, reference)
    assert (out - reference).abs().mean() < reference.abs().mean()


def test_patch_a_tokzoo_tokenizer_encoder():
    model = tokzoo.create("matryoshka-t", image_size=64).eval()
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        reference = model.encode(x).ids
        handle = patch(model.encoder, "tome", 1.0)
        same = model.encode(x).ids
        handle.remove()
        handle = patch(model.encoder, "tome", 0.5, unmerge=True)  # the encoder's grid output needs all tokens
        reduced = model.encode(x).ids
        handle.remove()
    assert torch.equal(same, reference) and reduced.shape == reference.shape


def test_patch_errors():
    with pytest.raises(ConfigError, match="no transformer blocks"):
        patch(nn.Linear(2, 2), "tome", 0.5)
    with pytest.raises(ConfigError, match="layers"):
        patch(MODELS["tokzoo"], "tome", 0.5, layers=[7])
    with pytest.raises(ConfigError, match="batch_first"):
        patch(
            nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 1, enable_nested_tensor=False),
            "tome",
            0.5,
        )
    handle = patch(MODELS["tokzoo"], "attention", 0.5)  # no query rows: needs protected CLS
    with pytest.raises(ConfigError, match="protected"), torch.no_grad():
        MODELS["tokzoo"](X)
    handle.remove()
    handle = patch(MODELS["tokzoo"], "tome", 0.5)
    with pytest.raises(ConfigError, match="already patched"):
        patch(MODELS["tokzoo"], "tome", 0.5)
    handle.remove()
