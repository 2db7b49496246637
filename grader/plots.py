"""The pictures: a submission's training loss against the reference's, a batch's score histogram.

PNG files drawn with Pillow (matplotlib costs ~0.1 s a figure and a second to import, and a
batch draws one per submission from its worker threads) and written atomically. They are
palette images: a handful of colours, so encoding one costs ~1 ms, not the ~7 ms of RGB.
Their labels are in the feedback's language; a label with characters beyond Latin (a Chinese file
name, `--lang zh`) is drawn with a CJK font the system has from a package (Debian's
fonts-wqy-microhei or fonts-noto-cjk, which .ci/run installs), never one fetched at run time.
"""

from __future__ import annotations

import functools
import math
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from .feedback import Curve, Feedback
from .i18n import speaking, t

_UMASK = os.umask(0o022)
os.umask(_UMASK)
READABLE = 0o666 & ~_UMASK  # what a plain open() would have given; mkstemp gives 0600
PALETTE = {"white": (255, 255, 255), "black": (0, 0, 0), "grid": (228, 228, 228), "reference": (127, 127, 127),
           "student": (214, 39, 40), "bar": (31, 119, 180)}
INK = {name: i for i, name in enumerate(PALETTE)}  # what ImageDraw takes as a colour on a palette image
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 360, 72, 20, 44, 52


class _Chart:
    """A Pillow canvas with a framed plot area, y ticks spanning lo..hi, a title and axis labels."""

    def __init__(self, title: str, xlabel: str, ylabel: str, lo: float, hi: float) -> None:
        from PIL import Image, ImageDraw

        self.img = Image.new("P", (WIDTH, HEIGHT), INK["white"])
        self.img.putpalette([c for rgb in PALETTE.values() for c in rgb])
        self.d = ImageDraw.Draw(self.img)
        ticks = _ticks(lo, hi)
        self.lo, self.hi = ticks[0], ticks[-1]
        for v in ticks:
            self.d.line([(LEFT, self.y(v)), (WIDTH - RIGHT, self.y(v))], fill=INK["grid"])
            self.text((LEFT - 6, self.y(v)), f"{v:.4g}", "rm")
        self.text((WIDTH / 2, TOP / 2), title, "mm", size=14)
        self.text(((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 14), xlabel, "mm")
        self.text((8, TOP - 14), ylabel, "lm")

    def text(self, xy: tuple[float, float], text: str, anchor: str, size: int = 12) -> None:
        mask, left, top = _label(text, size, anchor)
        self.img.paste(INK["black"], (round(xy[0]) + left, round(xy[1]) + top), mask)

    def y(self, v: float) -> float:
        return TOP + (self.hi - v) / (self.hi - self.lo) * (HEIGHT - TOP - BOTTOM)

    def x(self, fraction: float) -> float:
        return LEFT + fraction * (WIDTH - LEFT - RIGHT)

    def xtick(self, fraction: float, label: str) -> None:
        self.text((self.x(fraction), HEIGHT - BOTTOM + 6), label, "mt")

    def save(self, target: Path) -> None:
        self.d.rectangle([LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM], outline=INK["black"])
        _save(self.img, target)


_FONTS = threading.Lock()  # one FreeType face per size, shared by a batch's worker threads


@functools.lru_cache(maxsize=1024)
def _label(text: str, size: int, anchor: str) -> tuple[Any, int, int]:
    """A label rendered once as a mask, with its offset from the anchor point: most repeat from plot to plot."""
    from PIL import Image, ImageDraw

    with _FONTS:
        font = _font(size, any(ord(ch) > 0x24F for ch in text))
        left, top, right, bottom = font.getbbox(text, mode="1", anchor=anchor)  # as drawn: unhinted
        mask = Image.new("1", (max(1, right - left), max(1, bottom - top)), 0)
        ImageDraw.Draw(mask).text((-left, -top), text, fill=255, font=font, anchor=anchor)
    return mask, left, top


CJK_FONTS = (  # where Debian's packages put them: fonts-wqy-microhei, fonts-noto-cjk, fonts-wqy-zenhei, fonts-droid
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


@functools.cache
def _font(size: int, wide: bool = False) -> Any:
    """Pillow's own font; for a label beyond Latin, the first CJK font installed (else Pillow's, which shows
    boxes for what it lacks)."""
    from PIL import ImageFont

    if wide and (path := cjk_font()) is not None:
        return ImageFont.truetype(path, size=size)
    return ImageFont.load_default(size=size)


@functools.cache
def cjk_font() -> str | None:
    return next((p for p in CJK_FONTS if os.path.isfile(p)), None)


def _save(img: Any, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".png")
    os.fchmod(fd, READABLE)
    os.close(fd)
    try:
        img.save(tmp, format="PNG", compress_level=1)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def draw_histogram(fractions: list[float], target: Path) -> None:
    """Scores as a fraction of the maximum, one bar per tenth (full marks in the last)."""
    counts = [0] * 10
    for f in fractions:
        counts[min(9, max(0, int(f * 10)))] += 1
    chart = _Chart(t("plots.histogram", count=len(fractions)), t("report.axis_fraction"), t("plots.submissions"), 0,
                   max(counts + [1]))
    for i, n in enumerate(counts):
        if n:
            chart.d.rectangle([chart.x(i / 10) + 2, chart.y(n), chart.x((i + 1) / 10) - 2, chart.y(0)],
                              fill=INK["bar"], outline=INK["black"])
    for i in range(0, 11, 2):
        chart.xtick(i / 10, f"{i / 10:g}")
    chart.save(target)


def draw_curve(curve: Curve, title: str, target: Path) -> None:
    """Both curves round by round, the reference's drawn thick beneath the student's."""
    values = curve.student + curve.reference
    chart = _Chart(title, t("plots.round", step=curve.step), t("report.loss"), min(values), max(values))
    n = len(curve.student)
    for k in range(1, n + 1, max(1, n // 10)):
        chart.xtick((k - 1) / max(n - 1, 1), str(k))
    for series, color, line_width in ((curve.reference, INK["reference"], 4), (curve.student, INK["student"], 2)):
        points = [(chart.x((k - 1) / max(n - 1, 1)), chart.y(v)) for k, v in enumerate(series, start=1)]
        chart.d.line(points, fill=color, width=line_width, joint="curve")
        for x, y in points:
            chart.d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=color)
    for row, (label, color) in enumerate(((t("report.reference"), INK["reference"]),
                                          (t("plots.yours"), INK["student"]))):
        y = TOP + 14 + 18 * row
        chart.d.line([(WIDTH - RIGHT - 150, y), (WIDTH - RIGHT - 120, y)], fill=color, width=4)
        chart.text((WIDTH - RIGHT - 112, y), label, "lm")
    chart.save(target)


def with_plot(fb: Feedback, target: Path) -> Feedback:
    """Draw the feedback's loss curve to target, labelled in its language, and name the file in the feedback."""
    if fb.curve is None:
        return fb
    with speaking(fb.lang):
        draw_curve(fb.curve, t("plots.title", submission=fb.submission), target)
    return fb.model_copy(update={"plot": str(target)})


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round numbers spanning [lo, hi]: 1, 2 or 5 times a power of ten apart."""
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        lo, hi = lo - 0.5 * max(abs(lo), 1e-3), hi + 0.5 * max(abs(hi), 1e-3)
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    return [first + i * step for i in range(int(math.ceil((hi - first) / step - 1e-9)) + 1)]
