"""The child process that parses one member file (`python -m bot.validation.parse_worker`).

Reads `(function name, keyword arguments)` as a pickle on stdin (from the bot itself), runs
one of `FUNCTIONS`, and writes its JSON answer on stdout. The parent kills it at its time
limit (`bot.validation.offloop`); its memory is capped here, before any member byte is read.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import sys
from collections.abc import Callable
from typing import Any

from bot.validation.audio_length import length_answer

PARSE_MEMORY_BYTES = 1024 * 1024 * 1024  # address space of a child: a parse never needs more
FUNCTIONS: dict[str, Callable[..., Any]] = {"length": length_answer}


def _limit_memory() -> None:
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (PARSE_MEMORY_BYTES, PARSE_MEMORY_BYTES))


def main() -> None:
    _limit_memory()
    name, request = pickle.load(sys.stdin.buffer)
    sys.stdout.write(json.dumps(FUNCTIONS[name](**request)))


if __name__ == "__main__":
    main()
