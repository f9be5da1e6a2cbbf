"""Only `bot/jobs/lifecycle.py` ends a job and settles its credits: a second writer of a job's
final state or its ledger step, anywhere in the bot, fails this test."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The store functions that write a job's final state and settle its reservation.
ENDING_CALLS = {("job_sql", "finish"), ("ledger", "commit"), ("ledger", "release")}


def _callers(path: Path) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
        ):
            call = (node.func.value.id, node.func.attr)
            if call in ENDING_CALLS:
                found.add(call)
    return found


def test_only_the_lifecycle_writes_a_jobs_end_with_its_ledger_step() -> None:
    writers = {
        str(path.relative_to(ROOT))
        for folder in ("bot", "cogs")
        for path in (ROOT / folder).rglob("*.py")
        if _callers(path)
    }
    assert writers == {"bot/jobs/lifecycle.py"}
