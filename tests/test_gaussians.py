"""Gaussian spatial tokens (``tokzoo.points.gaussians``), the depth splatter, RGB-D frames and their metrics."""

import math
import shutil

import pytest
import torch

import tokzoo
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.tokens import Tokens
from tokzoo.points.depth_data import read_frame, render, render_view, write_frame
from tokzoo.points.gaussians import FIELDS, matrix_to_quaternion
from tokzoo.points.rgbd import Camera, depth_floor, depth_metrics, floor_size
from tokzoo.points.splat import quaternion_to_matrix, splat

CAM = Camera(32, 60.0)


def _one(mean, scale, opacity=0.8, quat=(1.0, 0.0, 0.0, 0.0)):
    """Arguments of :func:`splat` for Gaussians given as lists (K of each)."""
    means = torch.tensor([mean], dtype=torch.float32).reshape(1, -1, 3)
    k = means.shape[1]
    scales = torch.tensor([scale], dtype=torch.float32).reshape(1, k, 3)
    quats = torch.tensor([quat], dtype=torch.float32).reshape(1, -1, 4).expand(1, k, 4)
    return means, scales, quats, torch.full((1, k), opacity)


def test_single_isotropic_gaussian_footprint_is_the_ray_distance_gaussian():
    sigma, opacity, mu = 0.1, 0.8, torch.tensor([0.05, -0.02, 2.0])
    rays = CAM.rays()
    out = splat(*_one(mu.tolist(), [sigma] * 3, opacity), rays)
    t = rays @ mu / (rays * rays).sum(1)  # closest point of each ray to the centre
    d2 = (mu - t[:, None] * rays).pow(2).sum(1)
    torch.testing.assert_close(
        out["alpha"][0], opacity * torch.exp(-d2 / (2 * sigma**2)), atol=1e-5, rtol=1e-4
    )
    seen = out["alpha"][0] > 1e-6  # elsewhere the depth is 0 / 0
    assert seen.sum() > 100
    torch.testing.assert_close(out["depth"][0][seen], t[seen], atol=1e-4, rtol=1e-5)
    # its footprint: a disc around the projected centre, whose radius in pixels is about f * sigma / z
    centre = CAM.focal * mu[:2] / mu[2] + CAM.size / 2
    pix = (
        torch.stack(torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij"), -1).reshape(-1, 2)
        + 0.5
    )
    radius = (pix.flip(1) - centre).norm(dim=1)
    footprint = CAM.focal * sigma / mu[2]
    assert (out["alpha"][0][radius > 3 * footprint * 1.1] < opacity * math.exp(-4.5)).all()
    assert (out["alpha"][0][radius < footprint * 0.9] > opacity * math.exp(-0.5)).all()


def test_front_most_gaussian_wins_whatever_the_order():
    front, back = [0.0, 0.0, 1.0], [0.0, 0.0, 3.0]
    big = [0.5, 0.5, 0.5]
    for order in ([front, back], [back, front]):
        out = splat(*_one(order, [big, [1.5, 1.5, 1.5]], 0.99), CAM.rays())
        centre = 16 * 32 + 16
        assert abs(float(out["depth"][0, centre]) - 1.0) < 0.05
        assert float(out["alpha"][0, centre]) > 0.98


def test_tied_depths_composite_in_token_order():
    # 300 Gaussians at one centre depth: the front-most is token 0 (a stable sort), on every run and machine
    k = 300
    means, scales, quats, opacity = _one([[0.0, 0.0, 2.0]] * k, [[0.5, 0.5, 0.5]] * k, 0.99)
    seen = []
    for marked in (0, 1, k - 1):
        colours = torch.zeros(1, k, 1)
        colours[0, marked] = 1.0  # the share of the marked Gaussian in the composited colour
        seen.append(
            float(splat(means, scales, quats, opacity, CAM.rays(), colours)["colour"][0, 16 * 32 + 16, 0])
        )
    assert seen[0] > 0.95 and 0.005 < seen[1] < 0.05 and seen[2] < 1e-6, seen


def test_flat_tilted_gaussian_renders_its_plane():
    # a thin Gaussian in the plane z = 2 + 0.5 x: the splatted depth follows the slope
    axis = torch.nn.functional.normalize(torch.tensor([-0.5, 0.0, 1.0]), dim=0)  # the plane's normal
    rot = torch.stack(
        [torch.linalg.cross(torch.tensor([0.0, 1.0, 0.0]), axis), torch.tensor([0.0, 1.0, 0.0]), axis], 1
    )
    q = matrix_to_quaternion(rot)
    out = splat(*_one([0.0, 0.0, 2.0], [0.6, 0.6, 1e-3], 0.99, q.tolist()), CAM.rays())
    rays = CAM.rays()
    plane = 2 / (1 - 0.5 * rays[:, 0])  # z of the ray's hit on z = 2 + 0.5 x
    covered = out["alpha"][0] > 0.5
    assert covered.sum() > 100
    torch.testing.assert_close(out["depth"][0][covered], plane[covered], atol=2e-3, rtol=1e-3)


def test_quaternions_round_trip_through_matrices():
    q = torch.nn.functional.normalize(torch.randn(50, 4, generator=torch.Generator().manual_seed(0)), dim=-1)
    q = torch.where(q[:, :1] < 0, -q, q)
    torch.testing.assert_close(matrix_to_quaternion(quaternion_to_matrix(q)), q, atol=1e-5, rtol=1e-5)


@pytest.fixture(scope="module")
def small():
    model = tokzoo.create("gst-depth-16", size=32, steps=12, fit_pixels=512).eval()
    x = model.example_input()
    return model, x, model.encode(x)


def test_exact_bit_count_and_container(small):
    model, _x, tokens = small
    assert sum(model.cfg.field_bits) == 61 and len(model.cfg.field_bits) == len(FIELDS)
    assert model.vocab_size == 2**61
    assert tokens.ids.shape == (2, 16) and tokens.nbits() == 2 * 16 * 61
    back = Tokens.from_bytes(tokens.to_bytes())
    assert back.equal(tokens) and back.nbits() == tokens.nbits()


def test_encode_decode_shape_and_determinism(small):
    model, x, tokens = small
    assert model.encode(x).equal(tokens)
    out = model.decode(tokens)
    assert out.shape == (2, 4, 32, 32) and torch.isfinite(out).all()
    assert ((out[:, 3] == 0) | (out[:, 3] >= model.cfg.near * 0.99)).all()
    assert float(out[:, :3].min()) >= 0 and float(out[:, :3].max()) <= 1
    assert depth_metrics(out[0, 3], x[0, 3])["delta1"] > 0.8


def test_quantization_bins_are_uniform(small):
    model = small[0]
    t = torch.rand(1, 100, 13, generator=torch.Generator().manual_seed(1))
    back = model._unsquash(model.quantizer.ids_to_codes(model.quantizer(model._squash(t)).ids))
    levels = torch.tensor([2.0**b for b in model.cfg.field_bits])
    assert ((back - t).abs() <= 0.5 / levels + 1e-4).all()


def test_fitting_lowers_the_error():
    base = {"size": 32, "fit_pixels": 1024}
    init = tokzoo.create("gst-depth-16", steps=0, **base)
    fitted = tokzoo.create("gst-depth-16", steps=30, **base)
    x = init.example_input()
    err = [
        sum(depth_metrics(m.decode(m.encode(x))[i, 3], x[i, 3])["absrel"] for i in range(2))
        for m in (init, fitted)
    ]
    assert err[1] < 0.9 * err[0]


def test_bad_input_gets_one_line_errors(small):
    model, x, _tokens = small
    cases = {
        "NaN": x.clone().index_put_(
            (torch.tensor(0), torch.tensor(3), torch.tensor(4), torch.tensor(4)), torch.tensor(math.nan)
        ),
        "no valid": torch.cat([x[:, :3], torch.zeros_like(x[:, 3:])], 1),
        "expected frames": x[:, :3],
        "expected frames ": x[:, :, :16],
        "colour": torch.cat([x[:, :3] * 2, x[:, 3:]], 1),
        "outside": torch.cat([x[:, :3], x[:, 3:] * 10], 1),
    }
    messages = {"no valid": "0 valid depth pixels"}
    for name, bad in cases.items():
        with pytest.raises(DataError) as e:
            model.encode(bad)
        assert "\n" not in str(e.value) and messages.get(name, name.strip()) in str(e.value)
    with pytest.raises(ConfigError, match="always gives 16"):
        model.encode(x, num_tokens=8)
    with pytest.raises(DataError, match="expected seq1d tokens of 16"):
        model.decode(Tokens.from_ids(torch.zeros(1, 8, dtype=torch.long), model.vocab_size))
    with pytest.raises(ConfigError, match="at most 61 bits"):
        tokzoo.create("gst-depth-16", field_bits=[8] * 13)


def test_render_nearest_triangle_wins_and_depth_is_camera_z():
    # two triangles facing the camera at z = 2 and z = 3, each covering the whole view
    v = torch.tensor([[-9, -9, 3], [9, -9, 3], [0, 9, 3], [-9, -9, 2], [9, -9, 2], [0, 9, 2.0]])
    f = torch.tensor([[0, 1, 2], [3, 4, 5]])
    frame = render(v, f, 2, torch.eye(3), torch.zeros(3), CAM)
    torch.testing.assert_close(frame[3], torch.full((32, 32), 2.0))
    assert frame.shape == (4, 32, 32) and 0 < float(frame[:3].min()) <= float(frame[:3].max()) <= 1


def test_frame_files_round_trip_and_check_intrinsics(tmp_path):
    frame = torch.rand(4, 32, 32) * torch.tensor([1, 1, 1, 4.0])[:, None, None]
    write_frame(frame, CAM, tmp_path / "f.npz")
    back = read_frame(tmp_path / "f.npz", CAM)
    torch.testing.assert_close(back[3], frame[3])
    assert (back[:3] - frame[:3]).abs().max() <= 0.5 / 255 + 1e-6
    with pytest.raises(DataError, match="intrinsics"):
        read_frame(tmp_path / "f.npz", Camera(32, 45.0))


def test_depth_metrics_and_floor_known_values():
    target = torch.full((16, 16), 2.0)
    m = depth_metrics(target * 1.1, target)
    assert m["absrel"] == pytest.approx(0.1) and m["rmse"] == pytest.approx(0.2) and m["delta1"] == 1.0
    empty = depth_metrics(torch.zeros_like(target), target)
    assert empty["absrel"] == 1.0 and empty["delta1"] == 0.0 and empty["coverage"] == 0.0
    assert floor_size(1000) == 10 and floor_size(999) == 9
    floor = depth_floor(target, 4, 0.5, 8.0)
    assert (floor - 2.0).abs().max() < 2.0 * math.log(16) / 1022
    half = target.clone()
    half[:, 8:] = 0
    assert (depth_floor(half, 4, 0.5, 8.0)[:, 12:] == 0).all()


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get for the Debian data")
def test_rendered_frames_of_real_meshes_are_deterministic():
    from tokzoo.points.data import point_files

    path = point_files("homedecor:test")[0]
    a, b = render_view(path, 1, CAM), render_view(path, 1, CAM)
    assert torch.equal(a, b) and not torch.equal(a, render_view(path, 0, CAM))
    valid = a[3] > 0
    assert 0.2 < float(valid.float().mean()) < 1 and float(a[3][valid].min()) > 0.5 and float(a[3].max()) < 8


def test_frame_dataset_renders_each_frame_once_and_hands_out_copies(monkeypatch):
    import tokzoo.points.depth_data as depth_data

    calls = []

    def fake_render(path, view, camera):
        calls.append((path, view))
        return torch.full((4, 2, 2), float(view))

    monkeypatch.setattr(depth_data, "render_view", fake_render)
    frames = depth_data.FrameDataset(["a.obj", "b.obj"], CAM, views=2, cache_frames=2)
    first = frames[1]
    first += 5  # a caller changing its frame must not change the cached one
    assert torch.equal(frames[1], torch.full((4, 2, 2), 1.0)) and calls == [("a.obj", 1)]
    frames[2], frames[3], frames[3]  # the cache holds 2 frames: the third is rendered each time
    assert calls == [("a.obj", 1), ("b.obj", 0), ("b.obj", 1), ("b.obj", 1)]
    assert torch.equal(frames[(2, 7)], frames[2]) and calls.count(("b.obj", 0)) == 1
