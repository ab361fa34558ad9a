"""Triangle meshes as token sequences: quantization and four lossless serializations.

``tokzoo.create("mesh-amt-q7")`` (also ``mesh-naive-q7``, ``mesh-bpt-q7``, ``mesh-nautilus-q7``; ``bits=8..10``
as an override) gives a :class:`MeshTokenizer`; see ``docs/mesh.md``.
"""

from tokzoo.mesh import modality  # noqa: F401  (registers the mesh modality)
from tokzoo.mesh.io import RawMesh, read_mesh, write_mesh
from tokzoo.mesh.mesh import QuantizedMesh, canonicalize
from tokzoo.mesh.prepare import MeshReport, quantize_mesh
from tokzoo.mesh.tokenizer import SERIALIZATIONS, MeshConfig, MeshTokenizer, build_serialization

__all__ = [
    "SERIALIZATIONS",
    "MeshConfig",
    "MeshReport",
    "MeshTokenizer",
    "QuantizedMesh",
    "RawMesh",
    "build_serialization",
    "canonicalize",
    "quantize_mesh",
    "read_mesh",
    "write_mesh",
]
