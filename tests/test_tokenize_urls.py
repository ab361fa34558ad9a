"""``tokzoo tokenize`` over WebDataset shards (local paths, brace patterns, ``file:``, ``pipe:``, ``http://``):
byte-identical for 1 and 2 processes, resumable, corrupt members and shards skipped, bounded remote reads, and
one-line errors for bad ``--data``."""

import hashlib
import http.server
import io
import json
import tarfile
import threading

import numpy as np
import pytest
import torch
from PIL import Image

import tokzoo
from tokzoo.cli import main
from tokzoo.data.tok_inputs import url_shards
from tokzoo.data.tok_shards import TokenShards
from tokzoo.data.tokenize import tokenize_shards

SUFFIXES = (".png", ".jpg")


def _png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _tar(path, samples):
    """A tar of ``(key, {ext: bytes})`` samples (members ``key.ext``)."""
    with tarfile.open(path, "w") as tar:
        for key, files in samples:
            for ext, data in files.items():
                info = tarfile.TarInfo(f"{key}.{ext}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Three input shards: clean, one with a corrupt PNG and a sample without an image, one truncated."""
    root = tmp_path_factory.mktemp("wds")
    _tar(root / "in-000.tar", [(f"a{i}", {"png": _png(i), "cls": b"1"}) for i in range(3)])
    _tar(root / "in-001.tar", [("b0", {"png": _png(10)}), ("b1", {"png": b"\x89PNG\r\n\x1a\nbroken"}),
                               ("b2", {"json": b"{}"}), ("b3", {"jpg": _png(13)})])  # fmt: skip
    full = _tar(root / "full.tar", [(f"c{i}", {"png": _png(20 + i)}) for i in range(4)])
    with tarfile.open(full) as tar:
        cut = tar.getmembers()[2].offset_data + 100
    (root / "in-002.tar").write_bytes(full.read_bytes()[:cut])  # cut inside the third member
    return root


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return tokzoo.create("vq-f8-s").eval()


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_url_shards_one_and_two_processes_identical_with_source_keys(tmp_path, shards, model):
    urls = url_shards([str(shards / "in-{000..002}.tar")], SUFFIXES)
    one = tokenize_shards(model, urls, tmp_path / "one", batch_size=2)
    assert one.manifest and one.written == [0, 1, 2] and not one.failed
    r1 = tokenize_shards(model, urls, tmp_path / "two", batch_size=2, rank=1, world_size=2)
    r0 = tokenize_shards(model, urls, tmp_path / "two", batch_size=2, rank=0, world_size=2)
    assert (r0.written, r1.written, r0.manifest) == ([0, 2], [1], True)
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")
    data = TokenShards(tmp_path / "one")
    sources = [t.meta["source"].rsplit("/", 1)[1] for t in data]
    assert sources == ["in-000.tar#a0", "in-000.tar#a1", "in-000.tar#a2", "in-001.tar#b0", "in-001.tar#b3",
                       "in-002.tar#c0", "in-002.tar#c1"]  # fmt: skip
    assert data.keys[:4] == ["000000-0000000", "000000-0000001", "000000-0000002", "000001-0000000"]
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert manifest["shards"][1]["input"].endswith("in-001.tar")
    bad = " | ".join(f"{w}: {r}" for w, r in manifest["bad"])
    assert "in-001.tar#b1" in bad and "no .png/.jpg member (has json)" in bad and "truncated" in bad
    assert data.tokens().batch_size == 7


def test_url_resume_after_kill_loses_and_duplicates_nothing(tmp_path, shards, model):
    urls = url_shards([f"file:{shards}/in-{{000..002}}.tar"], SUFFIXES)
    tokenize_shards(model, urls, tmp_path / "ref", batch_size=3)

    def kill(j):
        if j == 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tokenize_shards(model, urls, tmp_path / "run", batch_size=3, after_shard=kill)
    again = tokenize_shards(model, urls, tmp_path / "run", batch_size=3)
    assert again.resumed == [0] and again.written == [1, 2]
    keys = TokenShards(tmp_path / "run").keys
    assert len(keys) == len(set(keys)) == 7
    assert _digest(tmp_path / "run") == _digest(tmp_path / "ref")


def test_oversized_member_skipped_and_unreadable_shard_retried(tmp_path, shards, model, monkeypatch):
    monkeypatch.setenv("TOKZOO_LIMIT_SHARD_MEMBER_BYTES", "300")  # every PNG here is > 300 bytes
    res = tokenize_shards(model, url_shards([str(shards / "in-000.tar")], SUFFIXES), tmp_path / "m")
    assert res.samples == 0 and "shard_member_bytes" in res.bad[0][1]
    monkeypatch.delenv("TOKZOO_LIMIT_SHARD_MEMBER_BYTES")

    flaky = tmp_path / "flaky.tar"
    urls = url_shards([str(shards / "in-000.tar"), f"pipe:cat {flaky}"], SUFFIXES)  # flaky does not exist yet
    res = tokenize_shards(model, urls, tmp_path / "p")
    assert (
        res.written == [0] and res.failed[0][0] == 1 and "status 1" in res.failed[0][1] and not res.manifest
    )
    assert not (tmp_path / "p" / "shard-000001.json").exists()  # no record: a rerun retries it
    flaky.write_bytes((shards / "in-000.tar").read_bytes())
    again = tokenize_shards(model, urls, tmp_path / "p")
    assert again.resumed == [0] and again.written == [1] and again.manifest

    monkeypatch.setenv("TOKZOO_LIMIT_SHARD_TIMEOUT_S", "1")
    res = tokenize_shards(model, url_shards(["pipe:sleep 5"], SUFFIXES), tmp_path / "t")
    assert "no data for 1 s" in res.failed[0][1]
    monkeypatch.setenv("TOKZOO_LIMIT_SHARD_BYTES", "1000")
    res = tokenize_shards(model, url_shards([str(shards / "in-000.tar")], SUFFIXES), tmp_path / "b")
    assert "shard_bytes" in res.failed[0][1] and res.written == []


@pytest.fixture
def server(shards):
    """A local HTTP server over the shard folder, on a free port."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(shards), **kw)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_shards_match_local_ones(tmp_path, shards, model, server, monkeypatch):
    local = tokenize_shards(model, url_shards([str(shards / "in-{000..001}.tar")], SUFFIXES), tmp_path / "l")
    remote = tokenize_shards(model, url_shards([server + "/in-{000..001}.tar"], SUFFIXES), tmp_path / "r")
    assert remote.manifest and remote.samples == local.samples == 5
    assert TokenShards(tmp_path / "r").tokens().equal(TokenShards(tmp_path / "l").tokens())
    assert TokenShards(tmp_path / "r")[0].meta["source"] == server + "/in-000.tar#a0"
    res = tokenize_shards(model, url_shards([server + "/missing.tar"], SUFFIXES), tmp_path / "x")
    assert "HTTP 404" in res.failed[0][1]
    monkeypatch.setenv("TOKZOO_LIMIT_SHARD_BYTES", "1000")  # refused from Content-Length, before reading
    res = tokenize_shards(model, url_shards([server + "/in-000.tar"], SUFFIXES), tmp_path / "y")
    assert "shard size" in res.failed[0][1]


def test_cli_urls_ranks_from_env_and_bad_data_errors(tmp_path, shards, model, monkeypatch, capsys):
    ckpt = tmp_path / "vq"
    model.save_pretrained(ckpt)
    pattern = str(shards / "in-{000..002}.tar")
    base = ["tokenize", "--model", str(ckpt), "--out"]
    assert main([*base, str(tmp_path / "one"), "--data", pattern]) == 0
    for rank in (1, 0):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "2")
        assert main([*base, str(tmp_path / "two"), "--data", pattern]) == 0
    monkeypatch.delenv("RANK")
    monkeypatch.delenv("WORLD_SIZE")
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")
    capsys.readouterr()

    def error(*args):
        assert main([*base, str(tmp_path / "e"), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        return err

    assert "mixes WebDataset shards" in error("--data", pattern, str(shards))
    assert "in-003.tar: shard not found (and 6 more)" in error("--data", str(shards / "in-{000..009}.tar"))
    assert "unbalanced" in error("--data", str(shards / "in-{000..002.tar"))
    assert "--labels folder" in error("--data", pattern, "--labels", "folder")
    assert "--fps apply to video tokenizers only" in error("--data", pattern, "--fps", "8")
    assert main([*base, str(tmp_path / "f"), "--data", "pipe:false"]) == 2
    assert "not written, rerun to retry" in capsys.readouterr().err


def test_cls_labels_from_webdataset_members_and_bad_ones_skipped(tmp_path, shards, model, capsys, caplog):
    from tokzoo.data.tok_shards import shard_labels

    _tar(tmp_path / "lab-000.tar", [("k0", {"png": _png(1), "cls": b"2\n"}), ("k1", {"png": _png(2)}),
                                    ("k2", {"png": _png(3), "cls": b"7"}), ("k3", {"png": _png(4), "cls": b"x"}),
                                    ("k4", {"png": _png(5), "cls": b"0"})])  # fmt: skip
    res = tokenize_shards(model, url_shards([str(tmp_path / "lab-000.tar")], SUFFIXES, num_classes=3),
                          tmp_path / "out", classes=["0", "1", "2"])  # fmt: skip
    assert res.samples == 2
    data = TokenShards(tmp_path / "out")
    labels, num_classes = shard_labels(data)
    assert labels.tolist() == [2, 0] and num_classes == 3
    assert [t.meta["source"].rsplit("#", 1)[1] for t in data] == ["k0", "k4"]
    err = caplog.text
    assert "no .cls member" in err and "not below the 3 classes" in err and "not a class index" in err

    ckpt = tmp_path / "vq"
    model.save_pretrained(ckpt)
    base = ["tokenize", "--model", str(ckpt), "--data", str(shards / "in-000.tar")]
    assert main([*base, "--out", str(tmp_path / "cli"), "--labels", "cls", "--num-classes", "2"]) == 0
    assert shard_labels(TokenShards(tmp_path / "cli"))[0].tolist() == [1, 1, 1]
    capsys.readouterr()
    assert main([*base, "--out", str(tmp_path / "e"), "--labels", "cls"]) == 2
    assert "--labels cls needs --num-classes" in capsys.readouterr().err
    files = [
        "tokenize",
        "--model",
        str(ckpt),
        "--data",
        str(tmp_path),
        "--labels",
        "cls",
        "--num-classes",
        "2",
    ]
    assert main([*files, "--out", str(tmp_path / "f")]) == 2
    assert "not files or folders" in capsys.readouterr().err
