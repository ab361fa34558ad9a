"""VQ options: rotation-trick gradients, EMA codebooks, k-means initialisation."""

import pytest
import torch

from tokzoo.quant import VectorQuantizer
from tokzoo.quant.gradients import rotation_trick, straight_through
from tokzoo.quant.kmeans import kmeans


def test_rotation_trick_forward_value_and_gradient():
    e = torch.randn(5, 8, requires_grad=True)
    q = torch.randn(5, 8)
    out = rotation_trick(e, q)
    assert torch.allclose(out, q, atol=1e-5)
    g = torch.randn(5, 8)
    out.backward(g)
    rot_grad = e.grad.clone()
    e.grad = None
    straight_through(e, q).backward(g)
    assert not torch.allclose(rot_grad, e.grad)  # differs from straight-through
    # For e parallel to q the rotation is the identity: the gradient is the upstream one scaled by |q|/|e|.
    e2 = torch.tensor([[1.0, 2.0, 2.0]], requires_grad=True)
    q2 = 2 * e2.detach()
    rotation_trick(e2, q2).backward(torch.tensor([[1.0, 0.0, -1.0]]))
    assert torch.allclose(e2.grad, torch.tensor([[2.0, 0.0, -2.0]]), atol=1e-5)


def test_rotation_grad_norm_tracks_the_rotation():
    """The rotation preserves the gradient's norm up to the scale |q|/|e|."""
    e = torch.randn(64, 16, requires_grad=True)
    q = torch.randn(64, 16)
    g = torch.randn(64, 16)
    rotation_trick(e, q).backward(g)
    expected = g.norm(dim=1) * q.norm(dim=1) / e.detach().norm(dim=1)
    assert torch.allclose(e.grad.norm(dim=1), expected, rtol=1e-4)


def test_kmeans_finds_separated_clusters():
    g = torch.Generator().manual_seed(0)
    centers = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    x = centers.repeat_interleave(50, 0) + 0.1 * torch.randn(200, 2, generator=g)
    c = kmeans(x, 4, iters=20, generator=g)
    assert torch.cdist(centers, c).min(1).values.max() < 0.5


def _clustered(n=1024, seed=0):
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(64, 16, generator=torch.Generator().manual_seed(99)) * 3
    return centers[torch.randint(0, 64, (n,), generator=g)] + 0.05 * torch.randn(n, 16, generator=g)


def test_kmeans_init_on_first_training_batch_only():
    vq = VectorQuantizer(16, 64, normalize=False, kmeans_init=True, restart_decay=0.0)
    assert not bool(vq.initialized)
    vq.eval()
    vq(_clustered())
    assert not bool(vq.initialized)  # eval never initialises
    random_error = float((vq(_clustered()).latents - _clustered()).pow(2).mean())
    vq.train()
    out = vq(_clustered())
    assert bool(vq.initialized) and float(out.stats["usage"]) > 0.8
    error = float((out.latents - _clustered()).pow(2).mean())
    assert error < 0.1 * random_error, (error, random_error)


def test_ema_codebook_learns_without_codebook_gradients():
    torch.manual_seed(0)
    vq = VectorQuantizer(16, 64, normalize=False, ema=True, ema_decay=0.9, restart_decay=0.0)
    assert not vq.codebook.weight.requires_grad
    errors = []
    for step in range(40):
        z = _clustered(seed=step).requires_grad_()
        out = vq(z)
        out.loss.backward()  # commitment only; must not fail
        errors.append(float((out.latents.detach() - z).pow(2).mean()))
    assert errors[-1] < 0.5 * errors[0]


@pytest.mark.parametrize("options", [{"ema": True}, {"kmeans_init": True}, {"grad": "rotation"}])
def test_options_round_trip_and_eval_determinism(options):
    vq = VectorQuantizer(16, 32, code_dim=8, **options)
    vq(_clustered())  # one training step of state updates
    vq.eval()
    a, b = vq(_clustered(seed=3)), vq(_clustered(seed=3))
    assert torch.equal(a.ids, b.ids)
    assert torch.allclose(vq.ids_to_latents(a.ids), a.latents, atol=1e-6)


def test_bad_grad_option():
    with pytest.raises(ValueError, match="grad"):
        VectorQuantizer(4, 8, grad="magic")
