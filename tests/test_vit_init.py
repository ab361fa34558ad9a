"""The ViT query decoder learns spatial layout quickly from its initialisation (regression for the flat-colour
plateau that 0.02-scale position tables caused: docs/flexible.md)."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

import tokzoo
from tokzoo.core.errors import ConfigError
from tokzoo.data import StreamBatchSampler
from tokzoo.image.dataset import build_crop_dataset
from tokzoo.image.vit_parts import PatchEmbed, PixelHead
from tokzoo.metrics import psnr
from tokzoo.nn.query_decoder import QueryDecoder
from tokzoo.nn.transformer import sincos_2d


class PatchAutoencoder(nn.Module):
    """Every patch token goes to the decoder: the mask tokens only have to find their own patch."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = PatchEmbed(64, 8, 3, 96)
        self.decoder = QueryDecoder(8, 96, 2, 4, 4.0)
        self.head = PixelHead(8, 8, 3, 96)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(x)
        return self.head(self.decoder(tokens, torch.ones(tokens.shape[:2], dtype=torch.bool)))


@pytest.mark.slow
def test_query_decoder_leaves_the_flat_colour_plateau_within_300_steps():
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = PatchAutoencoder()
        data = build_crop_dataset("bundled:train", 64, scale=(0.15, 1.0), seed=0, hflip=True)
        batches = iter(DataLoader(data, batch_sampler=StreamBatchSampler(len(data), 16, seed=0)))
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        for _ in range(300):
            x = next(batches)
            loss = ((model(x) - x) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        x = torch.cat([next(batches), next(batches)])  # 32 fresh random crops
        with torch.no_grad():
            rec = model(x).clamp(0, 1)
    finally:
        torch.set_num_threads(threads)
    flat = x.mean(dim=(2, 3), keepdim=True).expand_as(x)
    # with 0.02-scale position tables the output is still one flat colour per image here
    assert float(psnr(rec, x).mean()) > float(psnr(flat, x).mean()) + 1.0
    assert float(rec.std(dim=(2, 3)).mean()) > 0.5 * float(x.std(dim=(2, 3)).mean())


@pytest.mark.parametrize("name", ["titok-t-32", "hieratok-t", "matryoshka-t"])
def test_position_tables_start_as_unit_scale_sincos(name):
    model = tokzoo.create(name, width=32, heads=2, encoder_depth=1, decoder_depth=1)
    g = model.embed.grid
    assert torch.equal(model.embed.pos, sincos_2d(g, g, 32))
    assert torch.equal(model.decoder.queries, sincos_2d(g, g, 32))
    assert 0.5 < float(model.embed.pos.pow(2).mean().sqrt()) < 1.0  # unit scale, not 0.02


@pytest.mark.parametrize("name", ["titok-t-32", "hieratok-t", "matryoshka-t"])
@pytest.mark.parametrize(("width", "heads"), [(90, 3), (36, 8)])
def test_widths_the_vit_parts_cannot_build_are_config_errors(name, width, heads):
    with pytest.raises(ConfigError, match=f"width {width} must be divisible by 4"):
        tokzoo.create(name, width=width, heads=heads)
