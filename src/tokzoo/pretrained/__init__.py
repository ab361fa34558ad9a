"""Shipped pretrained weights (data only): ``weights/<name>/`` checkpoint folders (fp16 safetensors +
``config.json``) and ``manifest.json`` with each file's sha256. Read through ``tokzoo.core.pretrained``;
model cards are in ``docs/pretrained.md``."""
