"""Simulated Sonic endpoints beyond create/poll (docs/musicapi/protocol.md §3.2–§3.15).

Async ones start tasks on the shared timeline (polled on ``/sonic/task/{id}``); sync ones answer
at once, except uploads, which take ``upload_time``. Every clip they are given must exist, be
finished and, where §3.1 says so, be an upload (or not). Costs are charged only once a request
is accepted, and tasks are refunded on failure like any other.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from aiohttp import web

from ..core import API, SimCore, SimPersona, inherited_magic
from ..media import midi_pitch
from ..protocol import (
    AUTO_CONCAT_COST,
    ENDPOINT_COSTS,
    MAGIC_HALF_FAIL,
    MSG_MIDI_NOT_READY,
    MSG_VOX_WINDOW,
    TASK_COSTS,
    SimClip,
    SimTask,
    msg_continue_at,
    msg_required,
    msg_too_old,
    msg_window,
    text_of,
)
from ..rules import (
    Problem,
    check_audio_url,
    is_number,
    missing,
    validate_generation,
    validate_mashup,
    validate_persona,
    validate_replace_section,
    validate_sample,
)
from . import Route

__all__ = ["SonicToolHandlers"]

BASIC_STEMS = {2: ("Vocals", "Instrumental"), 4: ("Vocals", "Drums", "Bass", "Other")}
_FULL_12 = (
    "Vocals", "Backing Vocals", "Drums", "Bass", "Guitar", "Keyboard", "Percussion", "Strings",
    "Synth", "FX", "Brass", "Woodwinds",
)  # fmt: skip
_FULL_EXTRA = (
    "Piano", "Organ", "Pads", "Lead Synth", "Kick", "Snare", "Hi-Hat", "Cymbals",
    "Electric Guitar", "Acoustic Guitar", "Sub Bass", "Choir",
)  # fmt: skip
FULL_STEMS = {12: _FULL_12, 24: (*_FULL_12, *_FULL_EXTRA)}
_SECTION_TAG = re.compile(r"^\s*\[[^\]]*\]\s*$")
_UPSAMPLE_WORDS = (
    "warm analog textures",
    "wide stereo mix",
    "tight punchy drums",
    "lush layered pads",
    "polished modern production",
    "expressive lead vocal",
)
# An auto_concat part is final here; its stitched full song appears at the end (1.0).
PART_DONE_AT = 0.8


def midi_notes(clip: SimClip, seconds: float) -> tuple[tuple[int, float, float], ...]:
    """A short arpeggio on the clip's own tone: the MIDI file and its JSON agree."""
    root = midi_pitch(clip.frequency)
    steps = (0, 4, 7, 12)
    count = max(1, min(64, int(seconds / 0.5)))
    return tuple(
        (min(127, root + steps[i % len(steps)]), round(i * 0.5, 3), round(i * 0.5 + 0.45, 3))
        for i in range(count)
    )


def lyric_words(lyrics: str) -> list[str]:
    lines = [line for line in lyrics.splitlines() if line.strip() and not _SECTION_TAG.match(line)]
    return [word for line in lines for word in line.split()]


class SonicToolHandlers:
    """Route handlers over the simulator's shared state."""

    def __init__(self, sim: SimCore) -> None:
        self.sim = sim

    def routes(self) -> list[Route]:
        # One-shot uploads, edits, personas, sync utilities (§3.2–§3.15).
        return [
            ("POST", f"{API}/sonic/{path}", handler)
            for path, handler in (
                ("upload", self._handle_upload),
                ("upload-extend", self._handle_upload_extend),
                ("upload-cover", self._handle_upload_cover),
                ("sample", self._handle_sample),
                ("mashup", self._handle_mashup),
                ("stems/basic", self._handle_stems_basic),
                ("stems/full", self._handle_stems_full),
                ("replace-section", self._handle_replace_section),
                ("persona", self._handle_persona),
                ("create-voice", self._handle_create_voice),
                ("bpm", self._handle_bpm),
                ("vox", self._handle_vox),
                ("wav", self._handle_wav),
                ("midi", self._handle_midi),
                ("aligned-lyrics", self._handle_aligned_lyrics),
                ("upsample-tags", self._handle_upsample_tags),
            )
        ]

    # ------------------------------------------------------------------ helpers

    def _pair_task(
        self, kind: str, body: dict[str, Any], cost: float, text: str, key: str
    ) -> SimTask:
        """Two edited parts plus, later, their two stitched full songs (§3.13 auto_concat)."""
        task = self.sim._open_task(family="sonic", kind=kind, body=body, cost=cost, text=text)
        task.extra["pair_key"] = key
        tone = self.sim._tone_base(task)
        for index in range(2):
            part = self.sim._song_clip(body, index, tone, text, finishes_at=PART_DONE_AT)
            self.sim._add_clip(task, part)
            full = self.sim._song_clip(body, index, tone + 1, text, appears_at=1.0)
            full.seconds = 2 * self.sim.config.audio_seconds + 0.5 * index
            self.sim._add_clip(task, full, full=True)
        return task

    def _song_task(self, kind: str, body: dict[str, Any], cost: float, text: str) -> SimTask:
        task = self.sim._open_task(family="sonic", kind=kind, body=body, cost=cost, text=text)
        tone = self.sim._tone_base(task)
        for index in range(2):
            clip = self.sim._add_clip(task, self.sim._song_clip(body, index, tone, text))
            clip.will_fail = index == 1 and MAGIC_HALF_FAIL in text
        return task

    def _steps_response(
        self,
        steps: dict[str, dict[str, Any]],
        failed: tuple[str, Problem] | None = None,
        task: SimTask | None = None,
    ) -> web.Response:
        """§3.2/§3.4: ``{code, message, task_id?, steps, failed_step}``."""
        if failed is None:
            assert task is not None
            body = {"code": 200, "message": "success", "task_id": task.task_id}
            return web.json_response({**body, "steps": steps, "failed_step": None})
        step, (status, text) = failed
        steps[step] = {"success": False, "clip_id": None, "task_id": None, "error": text}
        body = {"code": status, "message": text, "steps": steps, "failed_step": step}
        return web.json_response(body, status=self.sim.config.step_failure_status)

    @staticmethod
    def _step_ok(clip_id: str | None = None, task_id: str | None = None) -> dict[str, Any]:
        return {"success": True, "clip_id": clip_id, "task_id": task_id, "error": None}

    async def _upload_step(self, url: Any) -> tuple[SimClip | None, Problem | None]:
        await self.sim._sleep(self.sim.config.upload_time)
        problem = check_audio_url(url)
        if problem is not None:
            return None, problem
        return self.sim._register_upload(str(url), "sonic"), None

    def _cost_with_concat(self, base: float, body: dict[str, Any]) -> float:
        extra = (
            AUTO_CONCAT_COST
            if body.get("auto_concat") and self.sim.config.auto_concat_charges
            else 0
        )
        return base + extra

    # ------------------------------------------------------------------ one-shot uploads

    async def _handle_upload(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        problem = check_audio_url(body.get("url"))
        if problem is not None:
            return self.sim._api_error(problem)
        cost = ENDPOINT_COSTS["upload"]
        if not self.sim._charge(cost):
            return self.sim._no_credits()
        await self.sim._sleep(self.sim.config.upload_time)  # ~20 s on the real service
        clip = self.sim._register_upload(body["url"], "sonic")
        return web.json_response({"code": 200, "message": "success", "clip_id": clip.clip_id})

    async def _handle_upload_extend(self, request: web.Request) -> web.Response:
        return await self._upload_edit(request, "extend")

    async def _handle_upload_cover(self, request: web.Request) -> web.Response:
        return await self._upload_edit(request, "cover")

    async def _upload_edit(self, request: web.Request, step: str) -> web.Response:
        body = await self.sim._read_object(request)
        if body is None:
            return self.sim._error(400, "The request body must be a JSON object.")
        problem = (
            (400, msg_required("url")) if missing(body.get("url")) else None
        ) or validate_generation(body, self.sim.config.limits)
        if problem is None and step == "extend" and body.get("continue_at") is not None:
            if not is_number(body["continue_at"]):
                problem = 400, "The 'continue_at' field should be a number."
        text, refused = self.sim._screen(body, problem)
        if refused is not None:
            return refused
        upload_cost = ENDPOINT_COSTS["upload"]
        edit_cost = self._cost_with_concat(TASK_COSTS[f"{step}_upload_music"], body)
        if self.sim.balance < upload_cost + edit_cost:
            return self.sim._no_credits()
        clip, problem = await self._upload_step(body["url"])
        if problem is not None:
            return self._steps_response({}, ("upload", problem))
        assert clip is not None
        self.sim._charge(upload_cost)
        steps = {"upload": self._step_ok(clip_id=clip.clip_id)}
        if step == "extend":
            seconds = self.sim._clip_seconds(clip)
            continue_at = body.get("continue_at")
            if continue_at is None:
                continue_at = 0.1  # §4: 0.1 is the recommended value
            if not 0 < continue_at < seconds:
                return self._steps_response(steps, (step, (400, msg_continue_at(seconds))))
        self.sim._charge(edit_cost)
        kind = f"{step}_upload_music"
        full_text = f"{text} {inherited_magic(clip)}"
        if step == "extend" and body.get("auto_concat"):
            task = self._pair_task(kind, body, edit_cost, full_text, "extended")
        else:
            task = self._song_task(kind, body, edit_cost, full_text)
        steps[step] = self._step_ok(task_id=task.task_id)
        return self._steps_response(steps, task=task)

    async def _handle_sample(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request)
        if body is None:
            return self.sim._error(400, "The request body must be a JSON object.")
        problem = validate_sample(body, self.sim.config.limits)
        source: SimClip | None = None
        if problem is None and not missing(body.get("sample_clip_id")):
            source, problem = self.sim._source(body["sample_clip_id"], "sample_clip_id")
        text, refused = self.sim._screen(body, problem)
        if refused is not None:
            return refused
        upload_cost = 0.0 if source is not None else ENDPOINT_COSTS["upload"]
        cost = ENDPOINT_COSTS["sample"]
        if self.sim.balance < upload_cost + cost:
            return self.sim._no_credits()
        steps: dict[str, dict[str, Any]] = {}
        if source is None:
            source, problem = await self._upload_step(body["url"])
            if problem is not None:
                return self._steps_response(steps, ("upload", problem))
            assert source is not None
            self.sim._charge(upload_cost)
            steps["upload"] = self._step_ok(clip_id=source.clip_id)
        seconds = self.sim._clip_seconds(source)
        if body["chop_sample_end_s"] > seconds:
            window = msg_window("chop_sample_start_s", "chop_sample_end_s", seconds)
            if not steps:  # an existing clip: a plain validation error, nothing was done
                return self.sim._error(400, window)
            return self._steps_response(steps, ("sample", (400, window)))
        self.sim._charge(cost)
        task = self._song_task("sample", body, cost, f"{text} {inherited_magic(source)}")
        steps["sample"] = self._step_ok(task_id=task.task_id)
        return self._steps_response(steps, task=task)

    # ------------------------------------------------------------------ async edits

    async def _handle_mashup(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        problem = validate_mashup(body, self.sim.config.limits)
        sources: list[SimClip] = []
        for clip_id in body.get("mashup_clip_ids", []) if problem is None else []:
            clip, problem = self.sim._source(clip_id, "mashup_clip_ids")
            if problem is not None:
                break
            assert clip is not None
            sources.append(clip)
        text, refused = self.sim._screen(body, problem)
        if refused is not None:
            return refused
        cost = ENDPOINT_COSTS["mashup"]
        if not self.sim._charge(cost):
            return self.sim._no_credits()
        inherited = " ".join(inherited_magic(c) for c in sources)
        return self.sim._accepted(self._song_task("mashup", body, cost, f"{text} {inherited}"))

    async def _handle_stems_basic(self, request: web.Request) -> web.Response:
        return await self._stems(request, "stems_basic", BASIC_STEMS[self.sim.config.basic_stems])

    async def _handle_stems_full(self, request: web.Request) -> web.Response:
        return await self._stems(request, "stems_full", FULL_STEMS[self.sim.config.full_stems])

    async def _stems(self, request: web.Request, kind: str, names: tuple[str, ...]) -> web.Response:
        body = await self.sim._read_object(request) or {}
        if missing(body.get("clip_id")):
            return self.sim._error(400, msg_required("clip_id"))
        source, problem = self.sim._source(body["clip_id"], "clip_id")
        if problem is not None:
            return self.sim._api_error(problem)
        assert source is not None
        cost = ENDPOINT_COSTS[kind]
        if not self.sim._charge(cost):
            return self.sim._no_credits()
        task = self.sim._open_task(
            family="sonic", kind=kind, body=body, cost=cost, text=inherited_magic(source)
        )
        seconds = self.sim._clip_seconds(source)
        tone = self.sim._tone_base(task)
        for index, name in enumerate(names):
            stem = self.sim._make_clip(
                index=index,
                # the stem's name: docs/musicapi/open-questions.md A.8 leaves the field open
                title=name,
                tags=source.tags,
                lyrics=source.lyrics if "Vocals" in name else "",
                mv=source.mv,
                seconds=seconds,
                tone=tone,
            )
            self.sim._add_clip(task, stem)
        return self.sim._accepted(task)

    async def _handle_replace_section(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        problem = validate_replace_section(body, self.sim.config.limits)
        source: SimClip | None = None
        if problem is None:
            source, problem = self.sim._source(body["clip_id"], "clip_id")
        if problem is None and source is not None:
            seconds = self.sim._clip_seconds(source)
            if body["infill_end_s"] > seconds:
                problem = 400, msg_window("infill_start_s", "infill_end_s", seconds)
        text, refused = self.sim._screen(body, problem)
        if refused is not None:
            return refused
        cost = self._cost_with_concat(ENDPOINT_COSTS["replace_section"], body)
        if not self.sim._charge(cost):
            return self.sim._no_credits()
        full_text = f"{text} {inherited_magic(source)}"
        if body.get("auto_concat"):
            task = self._pair_task("replace_section", body, cost, full_text, "replaced")
        else:
            task = self._song_task("replace_section", body, cost, full_text)
        return self.sim._accepted(task)

    # ------------------------------------------------------------------ personas and voices

    async def _handle_persona(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        problem, old_body = validate_persona(body)
        field = "continue_clip_id" if old_body else "clip_id"
        source: SimClip | None = None
        if problem is None:
            source, problem = self.sim._source(body.get(field), field)
        if (
            problem is None
            and source is not None
            and old_body
            and self.sim._is_older_than_a_day(source)
        ):
            # The older body's rule: "a clip made within the last 24 h".
            problem = 400, msg_too_old("persona")
        if problem is None and body.get("vox_audio_id") is not None:
            if self.sim.vox_ids.get(body["vox_audio_id"]) is None:
                problem = 400, "The 'vox_audio_id' field is invalid. No vocal segment has this id."
        if problem is not None:
            return self.sim._api_error(problem)
        if not self.sim._charge(ENDPOINT_COSTS["persona"]):
            return self.sim._no_credits()
        # The older docs show a bare UUID; the newest a "persona-..." id.
        persona_id = str(self.sim.new_id()) if old_body else f"persona-{self.sim.new_id().hex}"
        self.sim.personas[persona_id] = SimPersona(
            persona_id, body["name"], self.sim.config.clock()
        )
        return web.json_response({"code": 200, "persona_id": persona_id, "message": "success"})

    async def _handle_create_voice(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        problem = check_audio_url(body.get("audio_url"), "audio_url")
        if problem is not None:
            return self.sim._api_error(problem)
        cost = ENDPOINT_COSTS["create_voice"]
        if not self.sim._charge(cost):
            return self.sim._no_credits()
        text = text_of(body)
        task = self.sim._open_task(
            family="sonic", kind="create_voice", body=body, cost=cost, text=text
        )
        name = body["audio_url"].rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        name = name.replace("-", " ").replace("_", " ").title() or "My Voice"
        persona_id = f"persona-{self.sim.new_id().hex}"
        task.extra.update(persona_id=persona_id, name=name)
        if task.fail_message is None:
            # Usable with persona_music only once the task has succeeded.
            self.sim.personas[persona_id] = SimPersona(persona_id, name, task.completed_at)
        return self.sim._accepted(task)

    # ------------------------------------------------------------------ sync analysis

    async def _clip_for_tool(
        self, request: web.Request
    ) -> tuple[dict[str, Any], SimClip | web.Response]:
        body = await self.sim._read_object(request) or {}
        if missing(body.get("clip_id")):
            return body, self.sim._error(400, msg_required("clip_id"))
        clip, problem = self.sim._source(body["clip_id"], "clip_id")
        if problem is not None:
            return body, self.sim._api_error(problem)
        assert clip is not None
        return body, clip

    async def _handle_bpm(self, request: web.Request) -> web.Response:
        _, clip = await self._clip_for_tool(request)
        if isinstance(clip, web.Response):
            return clip
        if not self.sim._charge(ENDPOINT_COSTS["bpm"]):
            return self.sim._no_credits()
        # Fixed per clip: an average in [70, 160) BPM, and a range of 2.5 either side.
        digest = hashlib.sha256(clip.clip_id.encode()).digest()
        avg = 70.0 + digest[0] % 90 + digest[1] % 10 / 10
        data = {
            "avg_bpm": round(avg, 1),
            "max_bpm": round(avg + 2.5, 1),
            "min_bpm": round(avg - 2.5, 1),
        }
        return web.json_response({"code": 200, "message": "success", "data": data})

    async def _handle_vox(self, request: web.Request) -> web.Response:
        body, clip = await self._clip_for_tool(request)
        if isinstance(clip, web.Response):
            return clip
        seconds = self.sim._clip_seconds(clip)
        start = body.get("vocal_start_s")
        start = 0 if start is None else start
        end = body.get("vocal_end_s")
        if end is None:  # the window is optional (§3.7)
            end = min(seconds, (start if is_number(start) else 0) + 30)
        if not is_number(start) or not is_number(end) or not 0 <= start < end <= seconds:
            return self.sim._error(400, msg_window("vocal_start_s", "vocal_end_s", seconds))
        if end - start > 30:
            return self.sim._error(400, MSG_VOX_WINDOW)
        if not self.sim._charge(ENDPOINT_COSTS["vox"]):
            return self.sim._no_credits()
        vox_id = str(self.sim.new_id())
        self.sim.vox_ids[vox_id] = clip.clip_id
        peaks = [round(0.3 + 0.6 * abs(((i * 37) % 17) - 8) / 8, 2) for i in range(16)]
        data = {
            "vox_audio_id": vox_id,
            "status": "complete",
            "source_clip_id": clip.clip_id,
            "vocal_start_s": start,
            "vocal_end_s": end,
            "wave_response": {"peaks": peaks},  # documented only as opaque
        }
        return web.json_response({"code": 200, "data": data, "message": "success"})

    async def _handle_wav(self, request: web.Request) -> web.Response:
        _, clip = await self._clip_for_tool(request)
        if isinstance(clip, web.Response):
            return clip
        if not self.sim._charge(ENDPOINT_COSTS["wav"]):
            return self.sim._no_credits()
        url = f"{self.sim._origin(request)}/files/{clip.clip_id}.wav"
        return web.json_response({"message": "success", "data": {"wav_url": url}})

    async def _handle_midi(self, request: web.Request) -> web.Response:
        _, clip = await self._clip_for_tool(request)
        if isinstance(clip, web.Response):
            return clip
        calls = self.sim._midi_calls.get(clip.clip_id, 0)
        self.sim._midi_calls[clip.clip_id] = calls + 1
        if calls < self.sim.config.midi_not_ready_calls:
            # §3.9: "may answer HTTP 202 while the MIDI is still being prepared". Not billed.
            body = {"code": 202, "message": MSG_MIDI_NOT_READY, "data": None}
            return web.json_response(body, status=202)
        if not self.sim._charge(ENDPOINT_COSTS["midi"]):
            return self.sim._no_credits()
        notes = [
            {"pitch": pitch, "start_s": start, "end_s": end, "velocity": 100}
            for pitch, start, end in midi_notes(clip, self.sim._clip_seconds(clip))
        ]
        data = {
            "midi_url": f"{self.sim._origin(request)}/files/{clip.clip_id}.mid",
            "instruments": [{"name": "Lead", "notes": notes}],
        }
        return web.json_response({"code": 200, "data": data, "message": "success"})

    async def _handle_aligned_lyrics(self, request: web.Request) -> web.Response:
        _, clip = await self._clip_for_tool(request)
        if isinstance(clip, web.Response):
            return clip
        if clip.clip_id not in self.sim._aligned_paid:
            # "The first call costs 1 credit; repeat calls for the same clip are cached."
            if not self.sim._charge(ENDPOINT_COSTS["aligned_lyrics"]):
                return self.sim._no_credits()
            self.sim._aligned_paid.add(clip.clip_id)
        words = lyric_words(clip.lyrics)
        seconds = self.sim._clip_seconds(clip)
        # Singing starts after a short intro and the words share the rest evenly.
        lead_in, span = 0.1 * seconds, 0.85 * seconds
        step = span / max(1, len(words))
        alignment = [
            {
                "word": f"{word} ",
                "start_s": round(lead_in + i * step, 3),
                "end_s": round(lead_in + (i + 0.9) * step, 3),
                "p_align": round(0.9 + (i % 10) / 100, 2),
                "success": True,
            }
            for i, word in enumerate(words)
        ]
        return web.json_response(
            {"code": 200, "data": {"alignment": alignment}, "message": "success"}
        )

    async def _handle_upsample_tags(self, request: web.Request) -> web.Response:
        body = await self.sim._read_object(request) or {}
        tags = body.get("tags")
        if missing(tags) or not isinstance(tags, str):
            return self.sim._error(400, msg_required("tags"))
        if len(tags) > 1000:
            return self.sim._error(
                400, "The tags character length should be less than or equal to 1000."
            )
        if not self.sim._charge(ENDPOINT_COSTS["upsample_tags"]):
            return self.sim._no_credits()
        start = hashlib.sha256(tags.encode()).digest()[0] % len(_UPSAMPLE_WORDS)
        extra = [_UPSAMPLE_WORDS[(start + i) % len(_UPSAMPLE_WORDS)] for i in range(3)]
        upsampled = ", ".join([tags.strip().rstrip(","), *extra])
        return web.json_response(
            {"code": 200, "message": "success", "data": {"upsampled_tags": upsampled}}
        )
