"""Event-loop lag while crafted uploads are parsed: in a child process (now) against the same
parse on the event loop (the baseline, as before), measured in the same run.

The file is an MP3 whose ID3 tag holds many tiny frames (`tests.audio_files.id3_bomb`):
mutagen's time on it grows with the square of the tag's size. A ticker on the loop asks to
wake every 5 ms and records how late it wakes; p99 and max of that lateness are what every
other server would wait for meanwhile (Discord wants an answer within 3 s).

    python -m bench.loop_lag                 # 10 uploads, a 60,000-frame tag (1.6 MiB file)
    python -m bench.loop_lag --frames 415000 --uploads 3  # the full 8.4 MiB file

The baseline on the loop takes ~3 s per upload at 60,000 frames and minutes at 415,000, so by
default the full-size file is sent only through the new path (refused after one small read);
`--full-baseline` parses it on the loop too.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

from bench.common import percentile
from bot.validation.audio_length import FETCH_MIN_BYTES, length_in, read_length
from tests.audio_files import id3_bomb

TICK_S = 0.005
Work = Callable[[], Awaitable[list[str]]]


async def lag_during(work: Work) -> tuple[list[float], float, list[str]]:
    """Lateness of a 5 ms ticker while `work` runs; also its wall time and outcomes."""
    loop = asyncio.get_running_loop()
    late: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            before = loop.time()
            await asyncio.sleep(TICK_S)
            late.append(max(0.0, loop.time() - before - TICK_S))

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)  # the ticker is running before the first upload
    started = time.perf_counter()
    outcomes = await work()
    wall = time.perf_counter() - started
    done.set()
    await ticking
    return late, wall, outcomes


def outcome_of(result: BaseException | float | None) -> str:
    if isinstance(result, BaseException):
        return f"refused ({type(result).__name__})"
    return "accepted" if result is not None else "no length"


async def off_the_loop(data: bytes, uploads: int) -> list[str]:
    """What the bot does now: ranges fetched within the budget, each parse in a child."""

    async def fetch(start: int, count: int) -> bytes:
        await asyncio.sleep(0)  # a CDN read yields to the loop
        return data[start : start + count]

    async def one() -> float | None:
        return await read_length("mp3", len(data), data[:FETCH_MIN_BYTES], fetch)

    results = await asyncio.gather(*(one() for _ in range(uploads)), return_exceptions=True)
    return [outcome_of(result) for result in results]


async def on_the_loop(data: bytes, uploads: int) -> list[str]:
    """The baseline: mutagen on the whole file, on the event loop, one upload after another."""
    outcomes = []
    for _ in range(uploads):
        try:
            outcomes.append(outcome_of(length_in("mp3", len(data), {0: data})))
        except Exception as error:
            outcomes.append(outcome_of(error))
        await asyncio.sleep(2 * TICK_S)  # between uploads, the rest of the bot gets its turn
    return outcomes


async def main(frames: int, uploads: int, full_baseline: bool) -> None:
    files = [(frames, id3_bomb(frames), True)]
    if frames != 415_000:
        files.append((415_000, id3_bomb(415_000), full_baseline))
    print(f"{uploads} uploads each; loop lag = how late a 5 ms ticker wakes\n")
    print(f"{'parse':<22}{'tag frames':>11}{'file MiB':>10}{'wall s':>9}"
          f"{'lag p99 ms':>12}{'lag max ms':>12}  outcome")  # fmt: skip
    for count, data, baseline in files:
        runs: list[tuple[str, Work]] = [
            ("child process (now)", lambda d=data: off_the_loop(d, uploads)),  # type: ignore[misc]
        ]
        if baseline:
            runs.append(("on the loop (before)", lambda d=data: on_the_loop(d, uploads)))  # type: ignore[misc]
        for name, work in runs:
            late, wall, outcomes = await lag_during(work)
            summary = ", ".join(sorted(set(outcomes)))
            print(
                f"{name:<22}{count:>11,}{len(data) / 2**20:>10.1f}{wall:>9.1f}"
                f"{percentile(late, 99) * 1000:>12.1f}{max(late, default=0) * 1000:>12.1f}"
                f"  {summary}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60_000, help="ID3 frames in the tag")
    parser.add_argument("--uploads", type=int, default=10)
    parser.add_argument(
        "--full-baseline", action="store_true", help="also parse the 8.6 MiB file on the loop"
    )
    arguments = parser.parse_args()
    asyncio.run(main(arguments.frames, arguments.uploads, arguments.full_baseline))
