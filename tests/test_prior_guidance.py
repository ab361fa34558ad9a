"""Class labels in token shards and classifier-free guidance: labels survive both shard formats, a prior trained
with class dropout is steered toward its class by the guidance scale, and misuse fails clearly."""

import numpy as np
import pytest
import torch
from PIL import Image

import tokzoo
from tokzoo.core.errors import DataError
from tokzoo.data.tok_shards import TokenShards, shard_labels
from tokzoo.data.tokenize import folder_labels, tokenize_files
from tokzoo.prior.ar import ARPrior
from tokzoo.prior.ar_sample import sample_ar
from tokzoo.prior.config import PriorConfig
from tokzoo.prior.maskgit import MaskGITPrior, sample_maskgit
from tokzoo.prior.train import PriorTrainConfig, train_prior


@pytest.mark.parametrize("fmt", ["tar", "parquet"])
def test_folder_labels_reach_the_shards(tmp_path, fmt):
    rng = np.random.default_rng(0)
    files = []
    for cls in ("cat", "dog"):
        (tmp_path / "in" / cls).mkdir(parents=True)
        for i in range(2):
            path = tmp_path / "in" / cls / f"{i}.png"
            Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(path)
            files.append(path)
    names = [f"{f.parent.name}/{f.name}" for f in files]
    labels, classes = folder_labels(names)
    assert (labels, classes) == ([0, 0, 1, 1], ["cat", "dog"])
    torch.manual_seed(0)
    model = tokzoo.create("vq-f8-s").eval()
    tokenize_files(model, files, names, tmp_path / "out", shard_size=3, size=16, fmt=fmt, labels=labels,
                   classes=classes)  # fmt: skip
    shards = TokenShards(tmp_path / "out")
    assert shards.manifest["classes"] == ["cat", "dog"]
    assert [t.meta["label"] for t in shards] == [0, 0, 1, 1]
    got, count = shard_labels(shards)
    assert got.tolist() == [0, 0, 1, 1] and count == 2


def test_label_misuse_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not inside a class folder"):
        folder_labels(["cat/0.png", "loose.png"])
    model = tokzoo.create("vq-f8-s")
    with pytest.raises(ValueError, match="class indices"):
        tokenize_files(model, [tmp_path / "a.png"], ["a.png"], tmp_path / "o", labels=[2], classes=["x"])
    Image.fromarray(np.zeros((16, 16, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    tokenize_files(model.eval(), [tmp_path / "a.png"], ["a.png"], tmp_path / "plain", size=16)
    with pytest.raises(DataError, match="no class labels"):
        shard_labels(TokenShards(tmp_path / "plain"))


@pytest.fixture(scope="module")
def two_class_prior(tmp_path_factory):
    """An AR prior over 4x4 grids where class 0 uses ids 0-3 and class 1 ids 4-7, trained with class dropout."""
    g = torch.Generator().manual_seed(0)
    classes = torch.arange(256) % 2
    ids = torch.randint(0, 4, (256, 16), generator=g) + 4 * classes[:, None]
    cfg = PriorConfig(layout="grid2d", shape=[4, 4], vocab_size=8, num_classes=2, dim=32, depth=1, heads=2)
    torch.manual_seed(0)
    prior = ARPrior(cfg)
    train = PriorTrainConfig(
        steps=50, batch_size=32, lr=1e-2, warmup=5, class_dropout=0.5, checkpoint_every=1000
    )
    train_prior(prior, ids, torch.full((256,), 16), tmp_path_factory.mktemp("prior"), train, classes=classes)
    return prior.eval()


def _share_of_class_one(prior, guidance):
    classes = torch.ones(64, dtype=torch.int64)
    s = sample_ar(prior, 64, classes=classes, guidance=guidance, generator=torch.Generator().manual_seed(1))
    return float((s.ids >= 4).float().mean())


def test_guidance_steers_toward_the_class(two_class_prior):
    unconditional = _share_of_class_one(two_class_prior, 0.0)
    conditional = _share_of_class_one(two_class_prior, 1.0)
    guided = _share_of_class_one(two_class_prior, 3.0)
    assert 0.2 < unconditional < 0.8  # the dropped-class model is the mixture of both classes
    assert conditional > unconditional + 0.15 and guided >= conditional and guided > 0.9


def test_guidance_one_is_plain_conditional_and_needs_classes(two_class_prior):
    classes = torch.ones(8, dtype=torch.int64)
    a = sample_ar(two_class_prior, 8, classes=classes, generator=torch.Generator().manual_seed(2))
    b = sample_ar(
        two_class_prior, 8, classes=classes, guidance=1.0, generator=torch.Generator().manual_seed(2)
    )
    assert torch.equal(a.ids, b.ids)
    with pytest.raises(ValueError, match="needs classes"):
        sample_ar(two_class_prior, 2, guidance=2.0)
    maskgit = MaskGITPrior(PriorConfig(kind="maskgit", layout="grid2d", shape=[2, 2], vocab_size=8, num_classes=2,
                                       dim=16, depth=1, heads=2)).eval()  # fmt: skip
    with pytest.raises(ValueError, match="needs classes"):
        sample_maskgit(maskgit, 2, guidance=2.0)
    ids = sample_maskgit(maskgit, 3, classes=torch.tensor([0, 1, 0]), guidance=2.0, steps=2)
    assert ids.shape == (3, 4) and int(ids.max()) < 8
