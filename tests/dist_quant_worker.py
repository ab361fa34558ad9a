"""Run under torchrun: train a quantizer a few steps with DDP (gloo) on rank-specific data, then save this
rank's state so the test can check that every rank holds the same codebook. Not collected by pytest."""

import os
import sys

import torch
import torch.distributed as dist
from safetensors.torch import save_file
from torch.nn.parallel import DistributedDataParallel as DDP

from tokzoo.quant import build_quantizer


def main(out_dir: str, name: str, options: str) -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.manual_seed(1234 + rank)  # ranks see different data and draw different random numbers
    kwargs = eval(options, {})  # test-provided literal dict
    q = build_quantizer(name, 16, **kwargs)
    model = DDP(q, broadcast_buffers=False)  # no buffer sync: the quantizer itself must keep ranks equal
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    centers = torch.randn(32, 16, generator=torch.Generator().manual_seed(7)) * 3
    for step in range(12):
        n = 0 if (rank == 1 and step == 5) else 256  # one step where rank 1 has no data at all
        z = (centers[torch.randint(0, 32, (n,))] + 0.1 * torch.randn(n, 16)).requires_grad_()
        out = model(z)
        loss = out.loss + out.latents.pow(2).mean() if n else out.loss + 0 * out.latents.sum()
        assert torch.isfinite(loss), f"rank {rank} step {step}: loss {loss}"
        opt.zero_grad()
        loss.backward()
        opt.step()
    # Global-batch statistics (e.g. LFQ's entropy terms) must agree although each rank sees other data.
    out = model(centers[torch.randint(0, 32, (64,))] + 0.1 * torch.randn(64, 16))
    synced = {f"stat/{k}": v.detach().reshape(1) for k, v in out.stats.items() if k.endswith("_entropy")}
    with torch.no_grad():
        model.eval()
        q(torch.zeros(1, 16))  # an eval call on one rank only must not enter a collective
    state = {k: v.detach().contiguous() for k, v in q.state_dict().items() if v.is_floating_point()}
    state.update(synced)
    save_file(state, f"{out_dir}/rank{rank}.safetensors")
    dist.barrier()
    dist.destroy_process_group()
    # Leave without freeing the DDP wrapper: in torch 2.13 its reducer then destroys the gloo group while
    # holding the GIL and joins the group's work thread, which waits for the GIL to free a tensor -> the
    # process never exits (seen under py-spy). Everything is written by now.
    os._exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:4])
