"""Reporting of unusable samples: one logger line per bad file, plus an optional callback."""

from __future__ import annotations

import logging
from collections.abc import Callable

LOGGER = logging.getLogger("tokzoo.data")

OnError = Callable[[str, str], None]
"""Callback ``on_error(where, reason)`` told about each skipped file, sample or shard."""


def report_bad(where: str, reason: str, on_error: OnError | None = None) -> None:
    """Log ``where: reason`` as a warning on the ``tokzoo.data`` logger and pass it to ``on_error``."""
    LOGGER.warning("skipping %s: %s", where, reason)
    if on_error is not None:
        on_error(where, reason)


def reason_of(error: Exception, where: str) -> str:
    """The reason part of an error message of the form ``"<where>: <reason>"``."""
    msg = str(error)
    return msg[len(where) + 2 :] if msg.startswith(where + ": ") else msg
