"""The text corpus builder on a package cache made here (no download), and the text extractors."""

import gzip
import json

import pytest

from tokzoo.core.errors import DataError
from tokzoo.text.corpus import Source, build_text_corpus
from tokzoo.text.extract import groff_text, wordnet_glosses

MAN = r""".\" a comment
.TH LS 1
.SH NAME
ls \- list directory contents
.SH DESCRIPTION
List \fBinformation\fR about the FILEs \(em sorted.
.TP
.B \-a
do not ignore entries
"""


def _package(cache, name, files):
    root = cache / "debian" / name / "root"
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_extractors(tmp_path):
    man = tmp_path / "ls.1.gz"
    man.write_bytes(gzip.compress(MAN.encode()))
    text = groff_text(man)
    assert text.splitlines() == [
        "NAME", "ls - list directory contents", "DESCRIPTION",
        "List information about the FILEs — sorted.", "-a", "do not ignore entries",
    ]  # fmt: skip
    data = tmp_path / "data.noun"
    data.write_text("  1 licence header | not a gloss\n00001 03 n 01 entity 0 | that which exists\n")
    assert wordnet_glosses(data) == "that which exists\n"


def test_build_corpus_manifest_split_and_missing_package(tmp_path, monkeypatch):
    """A package missing from the cache cannot be fetched (here: no apt-get on PATH): reported and skipped."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))
    cache = tmp_path / "cache"
    _package(cache, "fake-docs", {
        "usr/share/doc/fake/a.txt": "".join(f"alpha line {i}\n" for i in range(200)).encode(),
        "usr/share/doc/fake/b.txt.gz": gzip.compress(b"beta\n" * 10),
        "usr/share/doc/fake/dup.txt": "".join(f"alpha line {i}\n" for i in range(200)).encode(),
        "usr/share/doc/fake-docs/copyright": b"Permission is hereby granted, free of charge\n",
    })  # fmt: skip
    sources = [
        Source("docs", "fake-docs", "usr/share/doc/fake/*.txt*", "general", "en"),
        Source("gone", "tokzoo-no-such-package-xyz", "*", "general", "en"),
    ]
    manifest = build_text_corpus(tmp_path / "out", sources, test_fraction=0.5, chunk_bytes=200, cache=cache)
    assert "apt-get not found" in manifest["failed"]["tokzoo-no-such-package-xyz"]
    docs = manifest["documents"]
    assert {d["source"] for d in docs} == {"docs", "copyright"}
    assert {d["split"] for d in docs} == {"train", "test"}  # ~20 chunks of a.txt, b.txt, copyright
    assert all(d["bytes"] <= 200 for d in docs if d["source"] == "docs")
    assert len({d["sha256"] for d in docs}) == len(docs)  # dup.txt left out
    for d in docs:
        assert (tmp_path / "out" / d["file"]).read_bytes().decode() and d["file"].startswith(d["domain"])
    assert json.loads((tmp_path / "out" / "manifest.json").read_text()) == manifest
    again = build_text_corpus(tmp_path / "out", sources, test_fraction=0.5, chunk_bytes=200, cache=cache)
    assert again["documents"] == docs
    with pytest.raises(DataError, match="no documents"):
        build_text_corpus(tmp_path / "none", sources[1:], cache=cache)
