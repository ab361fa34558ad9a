"""Token reduction inside transformers: pruning and merging methods behind one batched interface.

``reduce(x, method, keep, **context) -> Reduced`` and ``patch(model, method=..., keep=...)``; see
docs/reduce.md.
"""

from tokzoo.reduce.base import Reduced, unmerge
from tokzoo.reduce.identifier import identifier_spans
from tokzoo.reduce.method import ReductionMethod
from tokzoo.reduce.patch import ReductionPatch, patch
from tokzoo.reduce.registry import METHODS, create_method, reduce

__all__ = [
    "METHODS",
    "Reduced",
    "ReductionMethod",
    "ReductionPatch",
    "create_method",
    "identifier_spans",
    "patch",
    "reduce",
    "unmerge",
]
