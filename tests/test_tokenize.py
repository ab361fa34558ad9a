"""``tokenize_files``: 1 and 2 processes write byte-identical shard folders, a killed run resumes with no
sample lost or written twice, corrupt inputs are reported and skipped, and the shards read back."""

import hashlib
import json

import numpy as np
import pytest
import torch
from PIL import Image

import tokzoo
from tokzoo.core.errors import DataError
from tokzoo.data.tok_shards import TokenShards
from tokzoo.data.tokenize import tokenize_files


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    for i in range(11):
        Image.fromarray(rng.integers(0, 255, (24 + i % 3 * 8, 32, 3), dtype=np.uint8)).save(
            root / f"im{i:02d}.png"
        )
    (root / "im05.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")  # corrupt
    files = sorted(root.glob("*.png"))
    return files, [f.name for f in files]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return tokzoo.create("vq-f8-s").eval()


def _digest(folder):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if not p.name.startswith(".")
    }


def test_one_and_two_processes_identical_and_readable(tmp_path, images, model):
    files, names = images
    kw = {"shard_size": 4, "batch_size": 3, "size": 16}
    one = tokenize_files(model, files, names, tmp_path / "one", **kw)
    assert one.manifest and one.samples == 10 and one.bad[0][0] == "im05.png"
    r0 = tokenize_files(model, files, names, tmp_path / "two", rank=0, world_size=2, **kw)
    r1 = tokenize_files(model, files, names, tmp_path / "two", rank=1, world_size=2, **kw)
    assert (r0.written, r1.written) == ([0, 2], [1]) and not r0.manifest and r1.manifest
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")
    data = TokenShards(tmp_path / "one")
    assert len(data) == 10 and data[0].meta["source"] == "im00.png"
    assert [t.meta["source"] for t in data] == [n for n in names if n != "im05.png"]
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert manifest["bad"][0][0] == "im05.png" and len(manifest["shards"]) == 3
    batch = data.tokens()
    assert batch.batch_size == 10 and batch.layout == "grid2d"


def test_resume_after_kill_loses_and_duplicates_nothing(tmp_path, images, model):
    files, names = images
    kw = {"shard_size": 4, "batch_size": 4, "size": 16}
    tokenize_files(model, files, names, tmp_path / "ref", **kw)

    def kill(j):
        if j == 1:
            raise KeyboardInterrupt  # killed after shard 1 was written, before shard 2

    with pytest.raises(KeyboardInterrupt):
        tokenize_files(model, files, names, tmp_path / "run", after_shard=kill, **kw)
    assert not (tmp_path / "run" / "manifest.json").exists()
    again = tokenize_files(model, files, names, tmp_path / "run", **kw)
    assert again.resumed == [0, 1] and again.written == [2]
    assert _digest(tmp_path / "run") == _digest(tmp_path / "ref")
    keys = TokenShards(tmp_path / "run").keys
    assert len(keys) == len(set(keys)) == 10


def test_damaged_shard_is_refused(tmp_path, images, model):
    files, names = images
    tokenize_files(model, files[:4], names[:4], tmp_path, shard_size=4, size=16)
    shard = tmp_path / "shard-000000.tar"
    shard.write_bytes(shard.read_bytes()[:-1] + b"x")
    with pytest.raises(DataError, match="sha256"):
        TokenShards(tmp_path)


def test_parquet_shards_match_tar_shards_and_resume(tmp_path, images, model):
    files, names = images
    kw = {"shard_size": 4, "batch_size": 3, "size": 16, "fmt": "parquet"}
    tokenize_files(model, files, names, tmp_path / "tar", shard_size=4, batch_size=3, size=16)
    one = tokenize_files(model, files, names, tmp_path / "pq", **kw)
    assert one.manifest and sorted(p.name for p in (tmp_path / "pq").glob("*.parquet")) == [
        f"shard-{j:06d}.parquet" for j in range(3)
    ]
    r0 = tokenize_files(model, files, names, tmp_path / "pq2", rank=0, world_size=2, **kw)
    r1 = tokenize_files(model, files, names, tmp_path / "pq2", rank=1, world_size=2, **kw)
    assert r0.written == [0, 2] and r1.manifest
    assert _digest(tmp_path / "pq") == _digest(tmp_path / "pq2")  # byte-identical for 1 and 2 processes

    tar, pq = TokenShards(tmp_path / "tar"), TokenShards(tmp_path / "pq")
    assert pq.keys == tar.keys and all(a.equal(b) for a, b in zip(pq, tar, strict=True))
    assert pq.tokens().equal(tar.tokens())

    def kill(j):
        if j == 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tokenize_files(model, files, names, tmp_path / "run", after_shard=kill, **kw)
    again = tokenize_files(model, files, names, tmp_path / "run", **kw)
    assert again.resumed == [0] and again.written == [1, 2]
    assert _digest(tmp_path / "run") == _digest(tmp_path / "pq")


def test_parquet_rows_are_plain_columns(tmp_path, images, model):
    import pyarrow.parquet as pq

    files, names = images
    tokenize_files(model, files[:3], names[:3], tmp_path, shard_size=4, size=16, fmt="parquet")
    table = pq.read_table(tmp_path / "shard-000000.parquet").to_pylist()
    assert [r["source"] for r in table] == names[:3] and [r["key"] for r in table] == ["000000000", "000000001",
                                                                                       "000000002"]  # fmt: skip
    first = TokenShards(tmp_path)[0]
    assert table[0]["ids"] == first.sample(0).tolist() and table[0]["length"] == len(table[0]["ids"])
    assert (table[0]["layout"], tuple(table[0]["shape"])) == (first.layout, first.shape)


def test_format_mixing_damage_and_continuous_tokens_are_refused(tmp_path, images, model):
    from tokzoo.data.tok_parquet import write_parquet_shard

    files, names = images
    tokenize_files(model, files[:4], names[:4], tmp_path, shard_size=2, size=16)
    with pytest.raises(ValueError, match=r"holds \.tar shards"):
        tokenize_files(model, files[:4], names[:4], tmp_path, shard_size=2, size=16, fmt="parquet")
    with pytest.raises(ValueError, match="shard format"):
        tokenize_files(model, files[:4], names[:4], tmp_path / "x", size=16, fmt="csv")
    out = tmp_path / "pq"
    tokenize_files(model, files[:4], names[:4], out, shard_size=4, size=16, fmt="parquet")
    shard = out / "shard-000000.parquet"
    shard.write_bytes(shard.read_bytes()[:-9])
    with pytest.raises(DataError, match="sha256"):
        TokenShards(out)
    with pytest.raises(DataError, match="not a readable Parquet file"):
        TokenShards(out, verify=False)
    t = TokenShards(tmp_path)[0]
    continuous = type(t)(
        t.ids, t.lengths, t.vocab_size, t.layout, t.shape, {}, torch.zeros(1, t.ids.shape[1], 2)
    )
    with pytest.raises(DataError, match="continuous"):
        write_parquet_shard([("k", continuous)])
