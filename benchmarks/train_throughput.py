"""Training throughput of every registered image tokenizer on this machine (forward + backward + AdamW).

python benchmarks/train_throughput.py     ->  results/train_throughput.csv
"""

from __future__ import annotations

import torch

import tokzoo
from common import median_seconds, write_results

SIZE, BATCH = 64, 16


def main() -> None:
    torch.manual_seed(0)
    rows = []
    x = torch.rand(BATCH, 3, SIZE, SIZE)
    for name in tokzoo.list(modality="image"):
        model = tokzoo.create(name)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def step(model=model, opt=opt) -> None:
            loss, _ = model(x)
            opt.zero_grad()
            loss.backward()
            opt.step()

        sec = median_seconds(step, repeats=5, warmup=2)
        with torch.no_grad():
            tokens = model.encode(x[:1])
        rows.append({
            "model": name, "params_M": model.num_parameters() / 1e6, "tokens_at_64px": tokens.num_tokens,
            "bits_at_64px": tokens.nbits(), "step_s": sec, "imgs_per_s": BATCH / sec,
        })  # fmt: skip
    write_results("train_throughput", rows)


if __name__ == "__main__":
    main()
