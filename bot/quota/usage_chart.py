"""`/quota usage` as a PNG: spending per day stacked by member, with the budget and reset.

Drawn with Pillow alone. matplotlib would give axes for free, but it brings numpy and about
40 MB to an image that needs one bar chart; Pillow is a few MB, already a common dependency,
and a chart this simple is a hundred lines of rectangles and text. The picture carries its own
opaque dark card (Discord's own greys) with light text and colours from the Okabe-Ito
palette, which people with colour-blindness can tell apart and which read on a dark card; an
opaque card looks the same on Discord's dark and light themes, where a transparent one would
lose its text on one of them.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from bot.quota.usage import Series, Usage
from bot.states import BudgetPeriod

WIDTH, HEIGHT = 1200, 675  # 16:9; Discord shows it at about half size, so it stays sharp
CARD = (43, 45, 49)  # #2B2D31
GRID = (78, 80, 88)
TEXT = (242, 243, 245)
MUTED = (181, 186, 193)
BUDGET = (242, 63, 67)  # a red that is not one of the series' colours
TOTAL_LINE = (255, 255, 255)
COLOURS = [
    (230, 159, 0),  # orange
    (86, 180, 233),  # sky blue
    (0, 158, 115),  # bluish green
    (240, 228, 66),  # yellow
    (204, 121, 167),  # reddish purple
]
OTHERS = (128, 132, 142)

MARGIN = 40
LEFT, RIGHT, TOP = 90, 90, 135  # the plots' left and right edges, the first plot's top
FONT_FILES = ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans when installed (the image installs it: it covers accented and most
    non-Latin names), else Pillow's bundled font, which covers ASCII only."""
    for name in FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def nice_ceiling(value: float) -> int:
    """1, 2, 2.5 or 5 × 10^n at or above `value`: round numbers for an axis."""
    if value <= 0:
        return 10
    power = 10.0 ** math.floor(math.log10(value))
    step = next(step for step in (1, 2, 2.5, 5, 10) if step * power >= value)
    return max(1, math.ceil(step * power))


def render(usage: Usage, labels: Sequence[str], *, title: str, subtitle: str) -> bytes:
    """The PNG. `labels` name `usage.series` in order (members, then "others")."""
    image = Image.new("RGB", (WIDTH, HEIGHT), CARD)
    draw = ImageDraw.Draw(image)
    big, normal, small = _font(30), _font(20), _font(16)
    draw.text((MARGIN, 22), title, fill=TEXT, font=big)
    draw.text((MARGIN, 62), subtitle, fill=MUTED, font=normal)
    daily_budget = usage.budget_period == BudgetPeriod.DAY
    plot_w = WIDTH - LEFT - RIGHT
    slot = plot_w / max(len(usage.days), 1)
    # A daily budget is drawn on the bars themselves; a longer one gets its own panel below,
    # where the running total climbs towards it.
    bars_bottom = HEIGHT - (130 if daily_budget else 270)
    _bars(draw, usage, TOP, bars_bottom, slot, small, daily_budget)
    if not daily_budget:
        _running_total(draw, usage, bars_bottom + 60, HEIGHT - 105, slot, small)
    _legend(draw, usage, labels, small, normal)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _axis(
    draw: ImageDraw.ImageDraw,
    top: float,
    bottom: float,
    maximum: int,
    caption: str,
    font: Font,
    steps: int = 4,
) -> None:
    for n in range(steps + 1):
        y = bottom - (bottom - top) * n / steps
        draw.line([(LEFT, y), (WIDTH - RIGHT, y)], fill=GRID, width=1)
        value = maximum * n / steps
        draw.text((LEFT - 10, y), f"{value:g}", fill=MUTED, font=font, anchor="rm")
    draw.text((LEFT, top - 14), caption, fill=MUTED, font=font, anchor="ls")


def _bars(
    draw: ImageDraw.ImageDraw,
    usage: Usage,
    top: float,
    bottom: float,
    slot: float,
    font: Font,
    daily_budget: bool,
) -> None:
    """Credits per day, the series stacked bottom-up in legend order."""
    height = bottom - top
    per_day = usage.per_day
    maximum = nice_ceiling(max([*per_day, usage.budget if daily_budget else 0, 1]) * 1.05)
    _axis(draw, top, bottom, maximum, "credits spent per day", font)
    count = len(usage.days)
    bar = max(2.0, slot * 0.7)
    every = max(1, math.ceil(count / 15))  # at most about 15 date labels
    for index, day in enumerate(usage.days):
        left = LEFT + slot * index + (slot - bar) / 2
        base = 0
        for number, series in enumerate(usage.series):
            amount = series.per_day[index]
            if amount <= 0:
                continue
            top_y = bottom - height * (base + amount) / maximum
            bottom_y = bottom - height * base / maximum
            draw.rectangle([left, top_y, left + bar, bottom_y], fill=_colour(series, number))
            base += amount
        if index % every == 0:
            draw.text(
                (left + bar / 2, bottom + 8), day.strftime("%d %b"), fill=MUTED, font=font,
                anchor="mt",
            )  # fmt: skip
    if daily_budget:
        y = bottom - height * usage.budget / maximum
        _dashed(draw, LEFT, WIDTH - RIGHT, y, BUDGET)
        draw.text((WIDTH - RIGHT + 8, y), f"budget\n{usage.budget}", fill=BUDGET, font=font,
                  anchor="lm")  # fmt: skip


def _running_total(
    draw: ImageDraw.ImageDraw, usage: Usage, top: float, bottom: float, slot: float, font: Font
) -> None:
    """Spent so far in the budget period, day by day, against the budget."""
    height = bottom - top
    running, points = usage.spent_before, []
    for amount in usage.per_day:
        running += amount
        points.append(running)
    maximum = nice_ceiling(max([*points, usage.budget, 1]) * 1.05)
    caption = (
        "spent in total" if usage.budget_period == BudgetPeriod.NONE else "spent so far this period"
    )
    _axis(draw, top, bottom, maximum, caption, font, steps=2)
    y = bottom - height * usage.budget / maximum
    _dashed(draw, LEFT, WIDTH - RIGHT, y, BUDGET)
    draw.text((WIDTH - RIGHT + 8, y), f"budget\n{usage.budget}", fill=BUDGET, font=font,
              anchor="lm")  # fmt: skip
    line = [
        (LEFT + slot * index + slot / 2, bottom - height * value / maximum)
        for index, value in enumerate(points)
    ]
    if len(line) > 1:
        draw.line(line, fill=TOTAL_LINE, width=3, joint="curve")
    for x, dot_y in line:
        draw.ellipse([x - 3, dot_y - 3, x + 3, dot_y + 3], fill=TOTAL_LINE)


def _colour(series: Series, number: int) -> tuple[int, int, int]:
    return OTHERS if series.user_id is None else COLOURS[number % len(COLOURS)]


def _dashed(
    draw: ImageDraw.ImageDraw, x1: float, x2: float, y: float, colour: tuple[int, ...]
) -> None:
    x = x1
    while x < x2:
        draw.line([(x, y), (min(x + 12, x2), y)], fill=colour, width=3)
        x += 20


def _legend(
    draw: ImageDraw.ImageDraw, usage: Usage, labels: Sequence[str], small: Font, normal: Font
) -> None:
    x, y = float(MARGIN), float(HEIGHT - 56)
    if not usage.series:
        draw.text((x, y), "Nothing was spent in this period.", fill=MUTED, font=normal)
    for number, (series, label) in enumerate(zip(usage.series, labels, strict=True)):
        text = f"{_clip(label, 24)}  {series.total}"
        width = draw.textlength(text, font=small) + 44
        if x + width > WIDTH - MARGIN:
            x, y = float(MARGIN), y + 26
        draw.rectangle([x, y + 2, x + 16, y + 18], fill=_colour(series, number))
        draw.text((x + 24, y + 10), text, fill=TEXT, font=small, anchor="lm")
        x += width


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
