"""tokzoo: one library to train, run, evaluate and compare tokenizers.

import tokzoo
tok = tokzoo.create("vq-f8-s")          # or tokzoo.load("runs/demo/model")
tokens = tok.encode(images)              # images: (B, 3, H, W) floats in [0, 1]
tokens.nbits(), tokens.to_bytes()
recon = tok.decode(tokens)
"""

__version__ = "0.1.0"

from tokzoo.core import (
    CheckpointError,
    ConfigError,
    DataError,
    NonFiniteLossError,
    RegistryError,
    Tokenizer,
    Tokens,
    TokFormatError,
    TokzooError,
    create,
    list_tokenizers,
    load,
    register_tokenizer,
    save_pretrained,
)

list = list_tokenizers

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "NonFiniteLossError",
    "RegistryError",
    "TokFormatError",
    "Tokenizer",
    "Tokens",
    "TokzooError",
    "__version__",
    "create",
    "list",
    "list_tokenizers",
    "load",
    "register_tokenizer",
    "save_pretrained",
]
