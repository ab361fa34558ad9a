"""User-facing error types. Each carries a one-line message that names what is wrong and where."""

from __future__ import annotations


class TokzooError(Exception):
    """Base class of every error tokzoo raises on purpose (the CLI prints these as one line)."""


class TokFormatError(TokzooError, ValueError):
    """A ``.tok`` byte string is truncated, corrupted, or of an unknown format version."""


class CheckpointError(TokzooError):
    """A checkpoint directory is missing files, is not safetensors, or names an unknown model."""


class RegistryError(TokzooError, KeyError):
    """An unknown tokenizer name, or a name registered twice."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ConfigError(TokzooError, ValueError):
    """An unknown option, a value of the wrong type or range, or an unreadable config file."""


class DataError(TokzooError):
    """Input data that cannot be used: unreadable file, wrong modality, image too small."""


class TokenSequenceError(DataError):
    """A token sequence that is not a valid program of its grammar; ``position`` is the offending token's index."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"token {position}: {message}")
        self.position = position


class LimitError(DataError):
    """An input larger than a resource limit of :mod:`tokzoo.core.limits` allows (checked before the work)."""


class TokLimitError(TokFormatError, LimitError):
    """A ``.tok`` header asking for more than the limit ``tok_ids`` allows (refused before allocating)."""


class NonFiniteLossError(TokzooError, FloatingPointError):
    """Training produced a NaN/Inf loss; the run stops before any checkpoint is overwritten."""
