"""MusicAPI answers are parsed on the event loop, so what is parsed is bounded: an answer too
large or nested too deep reads as "not JSON" (the path every malformed answer takes), never as
a parse that holds the loop or an exception that escapes."""

from __future__ import annotations

import json

from bot.musicapi.transport import _NOT_JSON, JSON_PARSE_MAX_BYTES, _decode


def test_an_ordinary_answer_is_parsed() -> None:
    assert _decode(b'{"code": 200, "data": [{"clip_id": "c"}]}') == {
        "code": 200,
        "data": [{"clip_id": "c"}],
    }


def test_an_answer_nested_too_deep_is_not_json() -> None:
    assert _decode(b"[" * 200_000) is _NOT_JSON


def test_an_answer_past_the_parse_limit_is_not_json_without_being_parsed() -> None:
    huge = json.dumps({"data": ["x" * 100] * (JSON_PARSE_MAX_BYTES // 50)}).encode()
    assert len(huge) > JSON_PARSE_MAX_BYTES
    assert _decode(huge) is _NOT_JSON


def test_the_largest_answer_parsed_is_parsed() -> None:
    # ~250 KiB of aligned words: far more than the timeline of an 8-minute song. (That this
    # takes milliseconds is a speed, not a behaviour: no timed assertion on a shared machine.)
    body = json.dumps([{"word": "la", "start_s": 1.0, "end_s": 1.5}] * 5500).encode()
    assert JSON_PARSE_MAX_BYTES * 0.9 < len(body) <= JSON_PARSE_MAX_BYTES
    decoded = _decode(body)
    assert isinstance(decoded, list) and len(decoded) == 5500
