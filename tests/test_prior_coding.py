"""Entropy coding with a trained prior (exact round trip, size close to the prior's NLL, RVQ in generation
order), prior checkpoints, and a killed prior training run resumed to the same weights."""

import pytest
import torch

from tokzoo.core.errors import CheckpointError
from tokzoo.core.tokens import Tokens
from tokzoo.prior.ar import ARPrior
from tokzoo.prior.checkpoint import build_prior, load_prior, save_prior
from tokzoo.prior.config import PriorConfig
from tokzoo.prior.container import compress, decompress
from tokzoo.prior.layout import sequence_layout, to_sequence
from tokzoo.prior.prior_coding import PriorCodingModel
from tokzoo.prior.train import PriorTrainConfig, train_prior


def _data(layout="grid2d", shape=(4, 4), n=64, vocab=16):
    """Structured tokens a prior can learn: each row repeats one id, plus noise."""
    g = torch.Generator().manual_seed(0)
    length = sequence_layout(layout, shape, vocab).length
    base = torch.randint(0, vocab, (n, 1), generator=g).expand(n, length).clone()
    noise = torch.rand(n, length, generator=g) < 0.1
    ids = torch.where(noise, torch.randint(0, vocab, (n, length), generator=g), base)
    return Tokens.from_ids(ids, vocab, layout, shape)


def _cfg(layout="grid2d", shape=(4, 4), **kw):
    return PriorConfig(layout=layout, shape=list(shape), vocab_size=16, dim=32, depth=2, heads=2, **kw)


@pytest.mark.parametrize(
    ("layout", "shape"),
    [
        ("grid2d", (4, 4)),
        ("grid2d+depth", (2, 4, 2)),
        ("multiscale", (1, 2, 3)),
        ("multiscale1d", (1, 2, 4, 8)),
    ],
)
def test_prior_coding_round_trip_and_size(tmp_path, layout, shape):
    tokens = _data(layout, shape)
    prior = ARPrior(_cfg(layout, shape))
    ids, lengths = to_sequence(tokens, prior.seq)
    out = train_prior(prior, ids, lengths, tmp_path, PriorTrainConfig(steps=40, batch_size=16, lr=3e-3))
    prior = load_prior(out)
    model = PriorCodingModel(prior, "test-prior")
    held = _data(layout, shape, n=64)[48:]
    data, nbits = compress(held, model)
    assert decompress(data, model).equal(held)
    hid, hlen = to_sequence(held, prior.seq)
    nll = float(prior.nll_bits(hid, hlen).sum())
    assert abs(nbits - nll) <= 2 + 0.01 * held.num_tokens
    assert nbits < 0.8 * held.nbits()  # the structure is learned: well below 4 bits/id


def test_variable_length_coding():
    torch.manual_seed(0)
    prior = ARPrior(PriorConfig(layout="seq1d", shape=[10], vocab_size=16, dim=32, depth=2, heads=2))
    ids = torch.randint(0, 16, (3, 10))
    tokens = Tokens(ids, torch.tensor([10, 3, 0]), 16, "seq1d", (10,))
    model = PriorCodingModel(prior, "p")
    data, _ = compress(tokens, model)
    assert decompress(data, model).equal(tokens)
    with pytest.raises(ValueError, match="models"):
        compress(Tokens.from_ids(torch.zeros(1, 11, dtype=torch.int64), 16, "seq1d", (11,)), model)


class _KillAt(list):
    """A log that interrupts training when step ``at`` is recorded (after the checkpoint of step 8)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def append(self, record):
        if record["step"] == self.at:
            raise KeyboardInterrupt
        super().append(record)


def test_resume_after_kill_gives_the_same_prior(tmp_path):
    ids, lengths = to_sequence(_data(), _cfg().sequence)
    cfg = PriorTrainConfig(steps=12, batch_size=8, checkpoint_every=4)
    torch.manual_seed(1)
    straight = load_prior(train_prior(build_prior(_cfg(kind="maskgit")), ids, lengths, tmp_path / "a", cfg))
    torch.manual_seed(1)
    with pytest.raises(KeyboardInterrupt):
        train_prior(build_prior(_cfg(kind="maskgit")), ids, lengths, tmp_path / "b", cfg, log=_KillAt(9))
    torch.manual_seed(2)  # a fresh process: the resumed run must not depend on it
    resumed = load_prior(
        train_prior(build_prior(_cfg(kind="maskgit")), ids, lengths, tmp_path / "b", cfg, resume=True)
    )
    for (k, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.equal(a, b), k


def test_load_prior_refuses_other_folders(tmp_path):
    with pytest.raises(CheckpointError, match="no readable"):
        load_prior(tmp_path)
    save_prior(ARPrior(_cfg()), tmp_path / "p")
    (tmp_path / "p" / "config.json").write_text('{"format": "tokzoo"}')
    with pytest.raises(CheckpointError, match="not a prior"):
        load_prior(tmp_path / "p")
