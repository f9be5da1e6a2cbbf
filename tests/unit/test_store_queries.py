"""The store's queries where the engines differ (ordering, JSON, case, ids), on both."""

from __future__ import annotations

from bot.states import ClipSource, JobState
from bot.store import clips as clip_sql
from bot.store import features as feature_sql
from bot.store import jobs as job_sql
from bot.store import lyrics as lyrics_sql
from bot.store import personas as persona_sql
from bot.store import requests as request_sql
from bot.store import settings as settings_sql
from bot.store.clips import StoredClip
from bot.store.database import Connection, Database
from bot.store.jobs import NewJob
from bot.store.personas import Persona
from bot.store.settings import GuildSettings

GUILD = 987_654_321_098_765_432
OTHER = 987_654_321_098_765_433
T0 = 1_795_132_800.0


async def add_job(conn: Connection, request: dict[str, object], guild: int = GUILD) -> int:
    return await job_sql.insert(
        conn,
        NewJob(
            guild_id=guild,
            channel_id=1,
            user_id=2,
            operation="stems_basic",
            request=request,
            summary="s",
            cost=5,
        ),
        T0,
    )


def clip(clip_id: str, job_id: int, title: str, guild: int = GUILD) -> StoredClip:
    return StoredClip(
        clip_id=clip_id, guild_id=guild, job_id=job_id, user_id=2, title=title, tags="",
        lyrics="", duration=1.5, model=None, image_url=None, audio_url=None,
        source=ClipSource.GENERATED, created_at=T0, raw={"n": clip_id},
    )  # fmt: skip


async def test_clips_keep_their_order_and_are_found_in_any_case(database: Database) -> None:
    async with database.transaction() as conn:
        job_id = await add_job(conn, {})
        # Same created_at: the order they were stored in decides (upstream order).
        for clip_id, title in (("zz-2", "Night Drive"), ("aa-1", "night DRIVE two")):
            await clip_sql.upsert(conn, clip(clip_id, job_id, title))
        await clip_sql.upsert(conn, clip("zz-2", job_id, "Night Drive (edit)"))  # an update
        other_job = await add_job(conn, {}, guild=OTHER)
        await clip_sql.upsert(conn, clip("elsewhere", other_job, "Night", guild=OTHER))
    async with database.read() as conn:
        assert [c.clip_id for c in await clip_sql.for_job(conn, job_id)] == ["zz-2", "aa-1"]
        found = await clip_sql.recent(conn, GUILD, "NIGHT drive", 10)
        assert [c.clip_id for c in found] == ["aa-1", "zz-2"]  # newest stored first
        assert found[1].title == "Night Drive (edit)" and found[1].raw == {"n": "zz-2"}
        assert await clip_sql.known_elsewhere(conn, GUILD, "elsewhere")
        assert await clip_sql.get(conn, GUILD, "elsewhere") is None


async def test_a_paid_operation_is_found_through_the_request_json(database: Database) -> None:
    async with database.transaction() as conn:
        job_id = await add_job(conn, {"clip_id": "clip-9", "other": [1, 2]})
        await job_sql.finish(conn, job_id, JobState.SUCCEEDED, T0)
    async with database.read() as conn:
        assert await job_sql.paid_before(conn, GUILD, "stems_basic", "clip-9")
        assert not await job_sql.paid_before(conn, GUILD, "stems_basic", "clip-8")
        assert not await job_sql.paid_before(conn, OTHER, "stems_basic", "clip-9")


async def test_personas_are_searched_in_any_case(database: Database) -> None:
    async with database.transaction() as conn:
        await persona_sql.insert(conn, Persona("p-1", GUILD, 2, "Velvet Voice", None, T0))
        await persona_sql.insert(conn, Persona("p-2", GUILD, 2, "Gravel", None, T0 + 1))
    async with database.read() as conn:
        assert [p.persona_id for p in await persona_sql.for_guild(conn, GUILD, "vElVeT")] == ["p-1"]
        assert [p.persona_id for p in await persona_sql.for_guild(conn, GUILD)] == ["p-2", "p-1"]


async def test_new_rows_get_their_ids_back(database: Database) -> None:
    async with database.transaction() as conn:
        first = await lyrics_sql.insert(conn, GUILD, 2, "T", "la la", T0)
        second = await lyrics_sql.insert(conn, GUILD, 2, "U", "da da", T0)
        request_id = await request_sql.insert(
            conn, guild_id=GUILD, channel_id=1, user_id=2, description="d", style=None,
            state="pending", now=T0,
        )  # fmt: skip
        assert await request_sql.add_vote(conn, request_id, 5)
        assert not await request_sql.add_vote(conn, request_id, 5)
        assert await request_sql.decide(conn, request_id, "rejected", 9, T0, reason="no")
        assert not await request_sql.decide(conn, request_id, "approved", 9, T0)
    assert second == first + 1
    async with database.read() as conn:
        draft = await lyrics_sql.get(conn, GUILD, second)
        assert draft is not None and draft.lyrics == "da da"
        request = await request_sql.get(conn, request_id)
        assert request is not None and (request.state, request.reason) == ("rejected", "no")
        assert await request_sql.vote_count(conn, request_id) == 1


async def test_settings_limits_and_switches(database: Database) -> None:
    defaults = GuildSettings(GUILD, 300, "month")
    async with database.transaction() as conn:
        await settings_sql.update(conn, GUILD, defaults=defaults, moderator_id=9, now=T0,
                                  member_jobs_cap=2, approval=1)  # fmt: skip
        await settings_sql.set_role_limit(conn, GUILD, 77, 40)
        await settings_sql.set_role_limit(conn, GUILD, GUILD, 10)  # @everyone
        assert await settings_sql.set_blocked(conn, GUILD, 5, True, 9, T0)
        await settings_sql.set_channel_allowed(conn, GUILD, 123, True)
        assert await feature_sql.set_enabled(conn, "studio", True, 9, T0)
        assert not await feature_sql.set_enabled(conn, "studio", True, 9, T0 + 1)
    async with database.read() as conn:
        found = await settings_sql.get(conn, GUILD)
        assert found is not None and (found.member_jobs_cap, found.approval) == (2, True)
        assert await settings_sql.member_limit(conn, GUILD, 5, (77,)) == 40
        assert await settings_sql.member_limit(conn, GUILD, 5, ()) == 10
        assert await settings_sql.is_blocked(conn, GUILD, 5)
        assert await settings_sql.allowed_channels(conn, GUILD) == [123]
        assert await feature_sql.states(conn) == {"studio": True}
        assert len(await feature_sql.history(conn, "studio")) == 2
