"""States are StrEnums that still read and write the texts already in the database, and a job's
result is a dataclass that reads rows written before it existed."""

from __future__ import annotations

import json
from pathlib import Path

from bot.states import BudgetPeriod, ClipSource, Family, JobState, RequestState
from bot.store import jobs as job_sql
from bot.store.database import Database
from bot.store.jobs import JobResult, MadePersona, NewJob


def test_states_equal_the_texts_stored_before_they_were_enums() -> None:
    assert JobState("queued") == "queued"
    assert RequestState.DIRECT == "direct"
    assert f"per {BudgetPeriod.WEEK}" == "per week"
    assert json.dumps({"source": ClipSource.STEM}) == '{"source": "stem"}'
    assert [state.final for state in JobState] == [False] * 6 + [True, True]


def test_a_result_written_as_a_plain_dict_reads_back_typed() -> None:
    old_row = json.dumps(
        {"files": ["https://cdn/x.wav"], "persona": {"persona_id": "p1", "name": None}}
    )
    result = JobResult.from_json(old_row)
    assert result == JobResult(("https://cdn/x.wav",), MadePersona("p1", None))
    assert JobResult.from_json(result.to_json()) == result
    assert JobResult.from_json('{"files": []}') == JobResult()


async def test_a_job_row_reads_back_with_enum_states(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    try:
        async with db.transaction() as conn:
            job_id = await job_sql.insert(
                conn,
                NewJob(1, 2, 3, "producer_download", {}, "s", 2, family=Family.PRODUCER),
                0.0,
            )
            await job_sql.set_result(conn, job_id, JobResult(files=("u",)))
            job = await job_sql.get(conn, job_id)
    finally:
        await db.close()
    assert job is not None
    assert job.state is JobState.SUBMITTING
    assert job.family is Family.PRODUCER
    assert job.result == JobResult(files=("u",))
