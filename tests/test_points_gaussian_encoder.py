"""The learned Gaussian spatial token encoder (``tokzoo.points.gaussian_encoder``, ``gst-learned-64``)."""

import pytest
import torch

import tokzoo
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.tokens import Tokens
from tokzoo.points.gaussian_encoder import GaussianEncoderTokenizer
from tokzoo.points.rgbd import Camera

SMALL = {"num_gaussians": 16, "size": 32, "dim": 32, "depth": 1, "heads": 2, "pool_blocks": 1}


def _model(**overrides) -> GaussianEncoderTokenizer:
    torch.manual_seed(0)
    return tokzoo.create("gst-learned-64", **(SMALL | overrides)).eval()


def _plane(normal, distance, size=32):
    """(1, 4, size, size) frame of the plane n . x = d seen by the model's camera (grey, every pixel valid)."""
    rays = Camera(size, 60.0).rays()
    n = torch.nn.functional.normalize(torch.tensor(normal, dtype=torch.float32), dim=0)
    depth = (distance / (rays @ n)).reshape(size, size)
    return torch.cat([torch.full((3, size, size), 0.5), depth[None]])[None], n


def _means(model, tokens):
    return model.gaussians(model._unsquash(model.quantizer.ids_to_codes(tokens.ids)))["means"]


def test_shapes_budget_and_the_fitted_tokenizers_token_format():
    model = _model()
    x = model.example_input()
    tokens = model.encode(x)
    assert tokens.ids.shape == (2, 16) and tokens.layout == "seq1d"
    assert tokens.nbits() == 2 * 16 * 61 and tokens.meta["tokenizer"] == "gst-learned-64"
    fitted = tokzoo.create("gst-depth-16", size=32)
    assert tokens.vocab_size == fitted.vocab_size == 2**61
    out = model.decode(tokens)
    assert out.shape == (2, 4, 32, 32)
    torch.testing.assert_close(fitted.decode(tokens), out)  # same fields, same renderer
    assert model.encode(list(x)).equal(tokens)  # a list of frames, and deterministic
    with pytest.raises(ConfigError, match="always gives 16 tokens"):
        model.encode(x, num_tokens=8)


def test_token_i_is_query_i_and_the_decoder_ignores_the_order():
    model = _model()
    x = model.example_input()
    tokens = model.encode(x)
    # the splatter sorts by (quantized) centre depth; ties composite in token order: shuffle the depths' groups
    depth = model.quantizer.ids_to_codes(tokens.ids[0])[:, 2]
    values, group = depth.unique(return_inverse=True)
    key = torch.randperm(len(values), generator=torch.Generator().manual_seed(1)).float()
    perm = torch.sort(key[group], stable=True).indices
    assert not torch.equal(perm, torch.arange(16))
    shuffled = Tokens.from_ids(tokens.ids[:1, perm], tokens.vocab_size)
    torch.testing.assert_close(model.decode(shuffled), model.decode(tokens)[:1], atol=1e-5, rtol=1e-5)
    with torch.no_grad():  # permuting the queries (and their home positions) permutes the tokens alike
        model.queries.copy_(model.queries[perm])
        model.home.copy_(model.home[perm])
    assert torch.equal(model.encode(x).ids, tokens.ids[:, perm])


@pytest.mark.parametrize("normal", [(0.0, 0.0, 1.0), (0.3, -0.4, 1.0)])
def test_gaussian_means_start_on_the_lifted_plane(normal):
    """At initialisation the offsets are 0: each mean is its anchor, a convex combination of lifted points."""
    model = _model()
    frame, n = _plane(normal, 2.5)
    means = _means(model, model.encode(frame))[0]
    gap = (means @ n - 2.5).abs() / means[:, 2]
    assert gap.max() < 0.01, gap.max()  # within the 7-bit centre / 9-bit depth quantization
    assert means[:, 2].min() > 1.5 and means[:, 2].max() < 5  # and on the seen part of the plane
    spread = means[:, :2] / means[:, 2:]
    assert spread.std(0).min() > 0.15  # spread over the frame, not collapsed onto one point


def test_a_few_steps_lower_the_loss_on_one_frame():
    model = _model(train_pixels=4096).train()
    frame = model.example_input()[:1]
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        loss, logs = model.loss(frame)
        assert torch.isfinite(loss) and set(logs) == {"fit_loss"}
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert min(losses[-3:]) < 0.7 * losses[0], losses


def test_save_load_round_trip_gives_identical_tokens(tmp_path):
    model = _model()
    with torch.no_grad():  # weights no fresh build has
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    x = model.example_input()
    loaded = tokzoo.load(model.save_pretrained(tmp_path / "ckpt"))
    assert isinstance(loaded, GaussianEncoderTokenizer) and loaded.cfg == model.cfg
    assert loaded.encode(x).equal(model.encode(x))


def _one_line(excinfo):
    assert "\n" not in str(excinfo.value)


def test_bad_input_and_config_are_one_line_errors():
    model = _model()
    x = model.example_input()
    nan = x.clone()
    nan[0, 3, 5, 5] = float("nan")
    for bad, match in (
        (nan, "NaN"),
        (x[:, :3], r"expected frames \(B, 4, 32, 32\)"),
        (x[..., :16], "expected"),
    ):
        with pytest.raises(DataError, match=match) as e:
            model.encode(bad)
        _one_line(e)
        with pytest.raises(DataError):
            model.loss(bad)
    empty = x.clone()
    empty[1, 3] = 0
    with pytest.raises(DataError, match="no valid depth pixel") as e:
        model.encode(empty)
    _one_line(e)
    for overrides, match in (
        ({"num_gaussians": 0}, "num_gaussians"),
        ({"patch": 5}, "patch 5 must divide"),
        ({"heads": 3}, "divisible by heads"),
        ({"steps": 5}, "does not apply"),
    ):
        with pytest.raises(ConfigError, match=match) as e:
            tokzoo.create("gst-learned-64", **(SMALL | overrides))
        _one_line(e)
