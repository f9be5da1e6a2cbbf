"""The .lrc timeline built from MusicAPI's word timings."""

from __future__ import annotations

from bot.delivery.timeline import TimedLine, preview, stamp, timed_lines, to_lrc
from bot.musicapi.results import AlignedWord

LYRICS = "[Verse]\nStars above the harbour,\nlights upon the sea\n\n[Chorus]\nSail away, sail away"


def words(*timed: tuple[str, float]) -> list[AlignedWord]:
    return [AlignedWord(word=f"{w} ", start_s=t, end_s=t + 0.4) for w, t in timed]


SUNG = words(
    ("Stars", 10.0), ("above", 10.5), ("the", 11.0), ("harbour,", 11.5),
    ("lights", 13.0), ("upon", 13.5), ("the", 14.0), ("sea", 14.5),
    ("Sail", 20.0), ("away,", 20.5), ("sail", 21.0), ("away", 21.5),
)  # fmt: skip


def test_lines_break_where_the_lyrics_break_and_keep_their_text() -> None:
    assert timed_lines(SUNG, LYRICS) == [
        TimedLine(10.0, "Stars above the harbour,"),
        TimedLine(13.0, "lights upon the sea"),
        TimedLine(20.0, "Sail away, sail away"),
    ]


def test_a_missed_word_or_a_section_tag_does_not_break_the_alignment() -> None:
    sung = [w for w in SUNG if w.word != "lights "]  # MusicAPI missed the first word of line 2
    sung.insert(0, AlignedWord(word="[Verse]\n", start_s=9.0, end_s=9.5))
    lines = timed_lines(sung, LYRICS)
    assert [line.text for line in lines][1] == "lights upon the sea"
    assert lines[1].start_s == 13.5  # its first word that was heard
    assert lines[0].start_s == 10.0


def test_words_that_do_not_match_the_lyrics_are_grouped_at_pauses() -> None:
    unrelated = "[Verse]\nSomething else entirely that was never sung here at all"
    lines = timed_lines(SUNG, unrelated)
    assert lines == [
        TimedLine(10.0, "Stars above the harbour,"),  # 1.1 s pause after "harbour,"
        TimedLine(13.0, "lights upon the sea"),
        TimedLine(20.0, "Sail away, sail away"),
    ]


def test_without_lyrics_long_runs_are_cut_and_sung_line_breaks_are_kept() -> None:
    run = [AlignedWord(word=f"w{n} ", start_s=n * 0.5, end_s=n * 0.5 + 0.4) for n in range(10)]
    assert [line.text.split()[0] for line in timed_lines(run, "")] == ["w0", "w8"]
    broken = [
        AlignedWord("one ", 0, 0.4),
        AlignedWord("two\n", 0.5, 0.9),
        AlignedWord("three ", 1, 1.4),
    ]
    assert [line.text for line in timed_lines(broken, "")] == ["one two", "three"]
    assert timed_lines([], LYRICS) == []


def test_stamps_round_to_hundredths_and_carry_into_minutes() -> None:
    assert stamp(0) == "00:00.00"
    assert stamp(61.239) == "01:01.24"
    assert stamp(59.999) == "01:00.00"
    assert stamp(-1) == "00:00.00"


def test_lrc_file_and_preview() -> None:
    lines = [TimedLine(10.0, "Stars above"), TimedLine(75.5, "Sail away")]
    assert to_lrc(lines, "Harbour [demo]\n") == (
        "[ti:Harbour demo]\n[00:10.00]Stars above\n[01:15.50]Sail away\n"
    )
    assert to_lrc(lines).startswith("[00:10.00]")
    assert preview(lines, 1) == "[00:10.00] Stars above"
