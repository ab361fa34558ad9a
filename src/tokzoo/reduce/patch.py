"""``patch(model, method=..., keep=...)``: token reduction in an existing ViT without editing its source.

The blocks of ``model`` are found by duck typing: tokzoo's ``nn.transformer.Block`` (and any block with
``norm1`` and an ``attn`` exposing ``qkv`` and ``heads``, called as ``block(x, mask)``) and
``torch.nn.TransformerEncoderLayer`` (``batch_first=True``). Each block's ``forward`` is wrapped on the
instance (``remove()`` restores it):

* before each block listed in ``layers`` the tokens are reduced; the budget shrinks geometrically from N to
  ``keep`` over those layers. Importance (CLS / last-token attention) and ToMe's metric (the keys) come from
  that block's own q/k projections of the query rows only, so no attention matrix is ever materialised;
* later blocks get one additive SDPA mask: ``log(size)`` (proportional attention) for merging methods and
  ``-inf`` for padding (per-sample budgets);
* with ``unmerge=True`` the last block's output is scattered back to N tokens in input order.

``fastvggt`` instead merges inside each listed block's attention and unmerges right after it, so the residual
stream keeps every token (FastVGGT's global-attention merging). With ``keep`` = 100 % the model computes
exactly what it computed before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.core.errors import ConfigError
from tokzoo.reduce.attention import query_attention
from tokzoo.reduce.base import Keep, Reduced, compose, log_size_bias, unmerge
from tokzoo.reduce.method import ReductionMethod
from tokzoo.reduce.registry import create_method

NEEDS_SCORES = {"attention", "visionzip", "segpruner", "adatoken3d"}


class _Adapter:
    """What the patch needs from a block: the attention input, the q/k projections, and how to call it."""

    def __init__(self, block: nn.Module) -> None:
        self.block = block
        self.forward = block.forward
        if isinstance(block, nn.TransformerEncoderLayer):
            if not block.self_attn.batch_first:
                raise ConfigError("patch: nn.TransformerEncoderLayer needs batch_first=True")
            attn = block.self_attn
            self.heads, self.weight, self.bias = attn.num_heads, attn.in_proj_weight, attn.in_proj_bias
            self.torch_layer = True
        else:
            self.heads, self.weight, self.bias = block.attn.heads, block.attn.qkv.weight, block.attn.qkv.bias
            self.torch_layer = False

    def attention_input(self, x: torch.Tensor) -> torch.Tensor:
        if self.torch_layer and not self.block.norm_first:
            return x
        return self.block.norm1(x)

    def project(self, h: torch.Tensor, part: int) -> torch.Tensor:
        d = h.shape[-1]
        bias = None if self.bias is None else self.bias[part * d : (part + 1) * d]
        return F.linear(h, self.weight[part * d : (part + 1) * d], bias)

    def call(self, x: torch.Tensor, args: tuple, kwargs: dict, bias: torch.Tensor | None) -> torch.Tensor:
        if bias is None:
            return self.forward(x, *args, **kwargs)
        if has_mask(args, kwargs):
            raise ConfigError("patch: a block given its own attention mask cannot run on reduced tokens")
        if self.torch_layer:  # (B·heads, K, K) float mask
            b, k = bias.shape[0], bias.shape[-1]
            full = bias.expand(b, self.heads, k, k).reshape(b * self.heads, k, k)
            return self.forward(x, src_mask=full)
        return self.forward(x, bias[:, 0])  # tokzoo's Attention broadcasts a (B, 1, K) mask over heads


def has_mask(args: tuple, kwargs: dict) -> bool:
    """Whether a block call carries an attention or padding mask (``is_causal`` flags aside)."""
    masks = [*args, *(v for k, v in kwargs.items() if k != "is_causal")]
    return any(isinstance(m, torch.Tensor) for m in masks)


def is_block(module: nn.Module) -> bool:
    """A transformer block the patch can drive (see module docstring)."""
    if isinstance(module, nn.TransformerEncoderLayer):
        return True
    attn = getattr(module, "attn", None)
    return hasattr(module, "norm1") and hasattr(attn, "qkv") and hasattr(attn, "heads")


@dataclass
class _State:
    assign: torch.Tensor | None = None
    sizes: torch.Tensor | None = None
    valid: torch.Tensor | None = None
    start: torch.Tensor | None = None  # (B,) tokens at the first block
    carried: dict[str, torch.Tensor] = field(default_factory=dict)
    counts: list[float] = field(default_factory=list)  # mean tokens entering each block
    seconds: float = 0.0  # spent choosing and gathering/merging tokens (q/k rows, method.reduce)


class ReductionPatch:
    """Handle of a patched model: ``remove()``, ``set_context(**per_token)`` (e.g. ``points`` (B, N, 3),
    carried through reductions), ``tokens_per_block`` (mean token count at each block in the last forward),
    ``selection_seconds`` (time the last forward spent selecting and merging tokens)."""

    def __init__(
        self,
        blocks: list[nn.Module],
        method: ReductionMethod,
        keep: Keep,
        layers: Sequence[int],
        unmerge_output: bool,
        query: str | None = None,
    ) -> None:
        self.blocks, self.method, self.keep = blocks, method, keep
        self.query = query or getattr(method, "query_rows", "first")
        self.layers = sorted(set(layers))
        self.unmerge_output = unmerge_output
        self.adapters = [_Adapter(b) for b in blocks]
        self.context: dict[str, Any] = {}
        self.state = _State()
        for i, (block, adapter) in enumerate(zip(blocks, self.adapters, strict=True)):
            if method.name == "fastvggt" and i in self.layers:
                if adapter.torch_layer:
                    raise ConfigError("patch: fastvggt merges inside tokzoo-style attention (block.attn)")
                block.attn.forward = self._merged_attention(block.attn.forward)
            block.forward = self._wrapped(i, adapter)

    @property
    def tokens_per_block(self) -> list[float]:
        return list(self.state.counts)

    @property
    def selection_seconds(self) -> float:
        return self.state.seconds

    def set_context(self, **context: Any) -> None:
        """Context a method reads, for the next forwards: per-token tensors (B, N, ...) such as SeGPruner's
        ``points`` or ``protect`` (carried through reductions), or values such as FastVGGT's ``reference``."""
        self.context = dict(context)

    def remove(self) -> None:
        """Restore every block's (and attention's) own ``forward``."""
        for block in self.blocks:
            vars(block).pop("forward", None)
            if hasattr(block, "attn"):
                vars(block.attn).pop("forward", None)

    def _budget(self, stage: int, current: torch.Tensor) -> torch.Tensor:
        """(B,) tokens to keep after reduction stage ``stage`` (1-based) of ``len(layers)``, at most
        ``current``."""
        start = self.state.start
        final = torch.as_tensor(self.keep, device=start.device)
        fraction = final.float() if final.is_floating_point() else final.float() / start.float()
        fraction = fraction.expand_as(start.float())
        if bool(((fraction <= 0) | (fraction > 1)).any()):
            raise ConfigError(f"patch: keep {self.keep!r} outside (0, N]")
        target = (start.float() * fraction ** (stage / len(self.layers))).round().long().clamp_min(1)
        return torch.minimum(target, current)

    def _wrapped(self, i: int, adapter: _Adapter) -> Callable[..., torch.Tensor]:
        def forward(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
            if i == 0:
                self.state = _State(start=torch.full((len(x),), x.shape[1], device=x.device))
                self.state.carried = dict(self.context)
            state = self.state
            if i in self.layers and self.method.name != "fastvggt":
                if has_mask(args, kwargs):
                    raise ConfigError("patch: a block given its own attention mask cannot be reduced")
                start = time.perf_counter()
                x = self._reduce(x, adapter, self.layers.index(i) + 1)
                state.seconds += time.perf_counter() - start
            state.counts.append(
                float(x.shape[1] if state.valid is None else state.valid.sum(1).float().mean())
            )
            bias = None
            if state.assign is not None and (self.method.merges or state.valid is not None):
                bias = log_size_bias(state.sizes, state.valid, x.dtype)
            out = adapter.call(x, args, kwargs, bias)
            if i == len(self.blocks) - 1 and self.unmerge_output and state.assign is not None:
                out = unmerge(out, state.assign)
            return out

        return forward

    def _reduce(self, x: torch.Tensor, adapter: _Adapter, stage: int) -> torch.Tensor:
        state = self.state
        have = torch.full_like(state.start, x.shape[1]) if state.valid is None else state.valid.sum(1)
        counts = self._budget(stage, have)
        if bool((counts >= have).all()):
            return x
        context: dict[str, Any] = {"valid": state.valid, "sizes": state.sizes}
        name = self.method.name
        if name in NEEDS_SCORES or name == "tome":
            h = adapter.attention_input(x)
            keys = adapter.project(h, 1)
            if name == "tome":
                context["metric"] = keys
            else:
                context["scores"] = query_attention(
                    self._queries(h, adapter, state), keys, adapter.heads, state.valid
                )
                if name == "visionzip":
                    context["keys"] = keys
        if name == "divprune":
            context["features"] = x
        for key, value in state.carried.items():
            context[key] = value
        reduced = self.method.reduce(x, counts, **context)
        self._update(reduced)
        return reduced.tokens

    def _queries(self, h: torch.Tensor, adapter: _Adapter, state: _State) -> torch.Tensor:
        """Projected query rows: the protected (CLS) rows, or each sample's last valid token."""
        if self.query == "last":
            last = (h.shape[1] if state.valid is None else state.valid.sum(1)) - 1
            rows = torch.arange(len(h), device=h.device)
            return adapter.project(h[rows, torch.as_tensor(last, device=h.device).expand(len(h))][:, None], 0)
        if self.method.protected == 0:
            raise ConfigError(
                f"patch: {self.method.name} needs protected query tokens (e.g. protected=1 for CLS)"
            )
        return adapter.project(h[:, : self.method.protected], 0)

    def _update(self, reduced: Reduced) -> None:
        state = self.state
        state.assign = reduced.assign if state.assign is None else compose(state.assign, reduced.assign)
        state.sizes, state.valid = reduced.sizes, reduced.valid
        state.carried = {k: carry(v, reduced.index) for k, v in state.carried.items()}

    def _merged_attention(self, attention: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        def forward(h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
            if mask is not None:
                raise ConfigError("patch: fastvggt cannot merge under a block's own attention mask")
            counts = self._budget(len(self.layers), torch.full((len(h),), h.shape[1], device=h.device))
            if bool((counts >= h.shape[1]).all()):
                return attention(h, mask)
            start = time.perf_counter()
            reduced = self.method.reduce(h, counts, **self.context)
            self.state.seconds += time.perf_counter() - start
            return reduced.unmerge(attention(reduced.tokens, reduced.attention_bias()[:, 0]))

        return forward


def carry(value: Any, index: torch.Tensor) -> Any:
    """A per-token (B, N, ...) tensor at the reduced tokens' representatives; anything else as is."""
    if not isinstance(value, torch.Tensor):
        return value
    shaped = index.view(*index.shape, *([1] * (value.dim() - 2))).expand(-1, -1, *value.shape[2:])
    return value.gather(1, shaped)


def find_blocks(model: nn.Module) -> list[nn.Module]:
    """The transformer blocks of ``model`` in call order (module order), all under one parent."""
    blocks = [m for m in model.modules() if is_block(m)]
    if not blocks:
        raise ConfigError(f"patch: no transformer blocks found in {type(model).__name__}")
    parents = {id(p) for p in model.modules() for c in p.children() if any(c is b for b in blocks)}
    if len(parents) > 1:
        raise ConfigError("patch: blocks under several parents (e.g. encoder and decoder); patch one of them")
    return blocks


def patch(
    model: nn.Module,
    method: str | ReductionMethod,
    keep: Keep,
    *,
    layers: Sequence[int] | None = None,
    unmerge: bool = False,
    query: str | None = None,
    **options: Any,
) -> ReductionPatch:
    """Apply ``method`` (a name built with ``options``, or an instance) inside ``model``'s blocks.

    ``keep``: final tokens per sample (count, fraction of N, or per sample). ``layers``: block indices that
    reduce (default: every block for ``tome`` and ``fastvggt``, ``AdaToken3D.stages`` for ``adatoken3d``,
    block 1 — after one full block, FastV-style — otherwise). ``query``: whose attention scores tokens,
    "first" (the protected rows, e.g. CLS) or "last" (each sample's last token, e.g. the end of an instruction;
    default for ``adatoken3d``). Returns a handle; ``remove()`` undoes it.
    """
    if query not in (None, "first", "last"):
        raise ConfigError(f"patch: query must be 'first' or 'last', got {query!r}")
    blocks = find_blocks(model)
    m = create_method(method, **options)
    if any(vars(b).get("forward") is not None for b in blocks):
        raise ConfigError("patch: the model is already patched; remove() the earlier patch first")
    if layers is None:
        if m.name in ("tome", "fastvggt"):
            layers = range(len(blocks))
        elif m.name == "adatoken3d":
            layers = m.stages or range(min(1, len(blocks) - 1), len(blocks))
        else:
            layers = [min(1, len(blocks) - 1)]
    layers = list(layers)
    if not layers or any(not 0 <= i < len(blocks) for i in layers):
        raise ConfigError(f"patch: layers {layers} outside the {len(blocks)} blocks")
    if m.name in ("identifier", "objects"):
        raise ConfigError(f"patch: {m.name} needs per-input spans/masks; call reduce() on the hidden states")
    return ReductionPatch(blocks, m, keep, layers, unmerge, query)


def flops_ratio(tokens: Sequence[float], n: float, dim: int, mlp_ratio: float = 4.0) -> float:
    """Estimated FLOPs of blocks run on ``tokens[i]`` tokens relative to the same blocks on ``n`` tokens each:
    per block (4 + 2·mlp_ratio)·t·d² for the projections and MLP plus 2·t²·d for attention."""

    def block(t: float) -> float:
        return (4 + 2 * mlp_ratio) * t * dim * dim + 2 * t * t * dim

    return sum(block(t) for t in tokens) / (len(tokens) * block(n))
