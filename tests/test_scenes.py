"""Occupancy scenes (tokzoo.scenes): voxelisation, the scene generator, scene files, IoU/mIoU, and the intra/inter
and per-frame scene tokenizers."""

import shutil

import numpy as np
import pytest
import torch

import tokzoo
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.tokens import Tokens
from tokzoo.scenes import confusion, generate_scene, iou_scores, voxelize
from tokzoo.scenes.data import SceneDataset, model_files, read_scene, write_scene, write_scenes
from tokzoo.scenes.generate import FLOOR, MOVING, STATIC

_BOX_FACES = np.array(
    [[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
     [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]]
)  # fmt: skip


def _box(sx: float, sy: float, sz: float) -> np.ndarray:
    return np.array([[x, y, z] for x in (0, sx) for y in (0, sy) for z in (0, sz)], dtype=float)


def _obj(path, sx, sy, sz):
    lines = [f"v {x} {y} {z}" for x, y, z in _box(sx, sy, sz)]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in _BOX_FACES]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_voxelize_fills_a_closed_box_and_puts_the_up_axis_last():
    grid = voxelize(_box(1, 2, 0.5), _BOX_FACES, 0.25, up=1)
    assert grid.shape == (4, 2, 8) and grid.all()  # x -> X, z -> Y, y (up) -> Z; interior filled
    with pytest.raises(DataError, match="NaN"):
        voxelize(np.full((8, 3), np.nan), _BOX_FACES, 0.25)
    with pytest.raises(DataError, match="faces"):
        voxelize(_box(1, 1, 1), np.zeros((0, 3), int), 0.25)


def test_iou_and_miou_known_values():
    target = torch.tensor([0, 0, 1, 1, 2, 2, 3, 0])
    pred = torch.tensor([0, 1, 1, 1, 2, 3, 3, 0])
    conf = confusion(pred, target, 4)
    assert conf.sum() == 8 and conf[2, 3] == 1 and conf[0, 1] == 1
    s = iou_scores(conf)
    # occupied: target {2..6}, prediction {1..6} -> 5 / 6
    assert s["iou"] == pytest.approx(5 / 6)
    assert (s["iou/1"], s["iou/2"], s["iou/3"]) == pytest.approx((2 / 3, 1 / 2, 1 / 2))
    assert s["miou"] == pytest.approx((2 / 3 + 1 / 2 + 1 / 2) / 3)
    assert iou_scores(confusion(target, target, 4))["miou"] == 1.0


def test_generated_scenes_are_deterministic_and_objects_move(tmp_path):
    files = [_obj(tmp_path / "a.obj", 1, 1, 1), _obj(tmp_path / "b.obj", 2, 1, 0.5)]
    occ, entry = generate_scene(files, seed=3, size=32, frames=6)
    again, entry2 = generate_scene(files, seed=3, size=32, frames=6)
    other, _ = generate_scene(files, seed=4, size=32, frames=6)
    assert occ.shape == (6, 32, 32, 32) and occ.dtype == np.uint8
    assert np.array_equal(occ, again) and entry == entry2 and not np.array_equal(occ, other)
    assert (occ[:, :, :, 0] == FLOOR).all()
    moving = [o for o in entry["objects"] if o["class"] == "moving"]
    static = [o for o in entry["objects"] if o["class"] == "static"]
    assert moving and static and all(len({tuple(p) for p in o["track"]}) == 1 for o in static)
    assert any(len({tuple(p) for p in o["track"]}) > 1 for o in moving)
    assert (occ == MOVING).any() and (occ == STATIC).any()
    assert not np.array_equal(occ[0] == MOVING, occ[-1] == MOVING)


def test_scene_files_manifest_and_bad_files(tmp_path):
    occ = np.zeros((2, 4, 4, 4), np.uint8)
    occ[:, :, :, 0] = 1
    write_scene(occ, tmp_path / "s.npz")
    assert np.array_equal(read_scene(tmp_path / "s.npz"), occ)
    np.savez(tmp_path / "other.npz", grid=occ)
    np.savez(tmp_path / "flat.npz", occupancy=occ[0])
    np.savez(tmp_path / "classes.npz", occupancy=occ + 7)
    (tmp_path / "text.npz").write_text("not a zip")
    for name, reason in [("other", "no 'occupancy'"), ("flat", r"\(T, X, Y, Z\)"), ("classes", "class ids"),
                         ("text", "cannot read")]:  # fmt: skip
        with pytest.raises(DataError, match=reason) as e:
            read_scene(tmp_path / f"{name}.npz")
        assert str(e.value).startswith(str(tmp_path / f"{name}.npz")) and "\n" not in str(e.value)


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get for the Debian models")
def test_scenes_are_split_by_model_and_written_with_a_manifest(tmp_path):
    import json

    train, test = model_files("train"), model_files("test")
    assert len(test) >= 8 and not {p.name for p in train} & {p.name for p in test}
    folder = write_scenes(tmp_path / "scenes", "test", 2, frames=3)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [s["file"] for s in manifest["scenes"]] == ["scene_0000.npz", "scene_0001.npz"]
    used = {o["file"] for s in manifest["scenes"] for o in s["objects"]}
    assert used <= {p.name for p in test} and manifest["models"] == [p.name for p in test]
    assert read_scene(folder / "scene_0001.npz").shape == (3, 32, 32, 32)
    ds = SceneDataset("homedecor:train")
    assert torch.equal(ds[(5, 1)], ds[(5, 1)]) and not torch.equal(ds[(5, 1)], ds[(5, 2)])


def _small(name: str, **options):
    return tokzoo.create(name, ch=8, latent_dim=8, codebook_size=64, **options)


@pytest.mark.parametrize("name", ["scene-ii-msrq", "scene-frame-msrq"])
def test_token_counts_prefixes_and_round_trip(name):
    torch.manual_seed(0)
    tok = _small(name).eval()
    x = tok.example_input()  # 2 scenes of 3 frames
    full = tok.encode(x)
    per = [tok.frame_tokens(k) for k in range(1, 7)]
    assert per == [1, 5, 14, 30, 66, 130] and full.shape == (3, 6, 6) and full.layout == "scene"
    assert full.lengths.tolist() == [3 * 130] * 2 and full.nbits() == 2 * 3 * 130 * 6
    low = tok.encode(x, levels=(4, 2))
    assert low.lengths.tolist() == [30 + 2 * 5] * 2 and low.shape == (3, 4, 2)
    assert torch.equal(low.ids[:, :30], full.ids[:, :30])  # the key frame's coarse scales are a prefix
    assert tok.encode(x, num_tokens=50).shape == (3, 3, 3)  # 3 frames x 14 tokens fit in 50
    back = Tokens.from_bytes(full.to_bytes())
    decoded = tok.decode(back)
    assert len(decoded) == 2 and decoded[0].shape == (3, 32, 32, 32) and decoded[0].dtype == torch.uint8
    same, recon = tok.encode_reconstruct(x, levels=(4, 2))
    assert same.equal(low) and torch.equal(recon, torch.stack(tok.decode(low)))  # closed loop = decoder


def test_scene_tokenizer_bad_input_and_bad_tokens():
    tok = _small("scene-ii-msrq").eval()
    x = tok.example_input()
    for bad, reason in [(x.float(), "integer class ids"), (x[:, :, :16], r"\(B, T, 32, 32, 32\)"),
                        (x + 4, r"class ids must be in \[0, 4\)"), ([], "empty batch")]:  # fmt: skip
        with pytest.raises(DataError, match=reason):
            tok.encode(bad)
    with pytest.raises(ConfigError, match="levels"):
        tok.encode(x, levels=(0, 7))
    with pytest.raises(ConfigError, match="cannot hold"):
        tok.encode(x, num_tokens=2)
    tokens = tok.encode(x, levels=(2, 2))
    with pytest.raises(DataError, match="need 15 tokens"):
        tok.decode(Tokens.from_ids(tokens.ids[:, :10], 64, "scene", (3, 2, 2)))
    with pytest.raises(DataError, match="expected 'scene' tokens"):
        tok.decode(Tokens.from_ids(tokens.ids, 64, "seq1d", ()))
    with pytest.raises(ConfigError, match="last scale"):
        tokzoo.create("scene-ii-msrq", size=48)


@pytest.mark.parametrize("name", ["scene-ii-msrq", "scene-frame-msrq"])
def test_a_few_training_steps_lower_the_loss(name):
    torch.manual_seed(0)
    tok = _small(name, quantizer_dropout=0.0, size=16, scales=(1, 2, 4))
    batch = tok.example_input()
    opt = torch.optim.Adam(tok.parameters(), lr=3e-3)
    first = None
    for _ in range(15):
        loss, logs = tok.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.7 * first and {"ce", "iou", "miou"} <= set(logs)


def test_tokzoo_eval_measures_scene_files_and_lists_bad_ones(tmp_path):
    from tokzoo.bench.eval_files import FileEvalOptions
    from tokzoo.scenes.evaluate import evaluate, measure_levels

    tok = _small("scene-ii-msrq", size=16, scales=(1, 2, 4)).eval()
    x = tok.example_input()
    for i in range(2):
        write_scene(x[i].numpy(), tmp_path / f"s{i}.npz")
    np.savez(tmp_path / "bad.npz", grid=np.zeros(3))
    result = evaluate(tok, sorted(tmp_path.glob("*.npz")), FileEvalOptions(out=tmp_path / "m.json"))
    assert [r["file"] for r in result.records] == ["s0.npz", "s1.npz"] and result.failures[0][
        "file"
    ] == "bad.npz"
    assert result.records[0]["tokens_per_frame"] == 21 and result.records[0]["bits_per_frame"] == 21 * 6
    assert 0 <= result.summary["miou_all"] <= 1
    floor = measure_levels(tok, [x[:1]], (3, 1), copy_after_key=True)
    assert floor["tokens_per_frame"] == 21 / 3  # only the key frame is sent


def test_key_all_frames_trains_the_key_path_on_every_frame():
    # A one-frame clip is a key frame either way; on a longer clip the key path also scores the later frames.
    models = []
    for key_all_frames in (False, True):
        torch.manual_seed(0)
        models.append(
            _small("scene-ii-msrq", size=16, scales=(1, 2, 4), key_all_frames=key_all_frames).eval()
        )
    clip = models[0].example_input()
    assert clip.shape[1] > 1
    with torch.no_grad():
        one = [m.loss(clip[:, :1])[0].item() for m in models]
        many = [m.loss(clip)[0].item() for m in models]
    assert one[0] == pytest.approx(one[1])
    assert many[0] != pytest.approx(many[1])
