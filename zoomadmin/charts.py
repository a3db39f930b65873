"""Small server-rendered charts: the geometry of bar and donut charts, drawn as inline SVG by
`templates/components/chart_bars.html` and `chart_donut.html`.

Why this way: no JavaScript library and no CDN (CSP allows neither inline styles nor foreign
scripts), and labels come from Zoom, so they are printed by the templates (autoescaped) as HTML
text beside the drawing rather than inside it. The SVG is decoration (`aria-hidden`) or carries a
`<title>`; the numbers are always there as text too, for screen readers and for copying.

Numbers that land in SVG attributes are preformatted strings here, so the template's number
localisation can never turn `12.5` into `12,5`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# The donut's circle has a circumference of 100 user units, so dash lengths are percentages.
DONUT_RADIUS = "15.9155"
# Tones the stylesheet colours (`.chart-tone-<tone>`): status colours and a palette for series.
TONES = ("success", "warning", "danger", "neutral", "primary", "info", "owner", "accent")
SERIES = ("primary", "info", "owner", "accent", "warning", "success", "neutral")


@dataclass(frozen=True)
class Datum:
    """One value to chart: its label (shown escaped), count, optional link and tone, and optionally
    the value as the chart should print it (`text`, e.g. "120 of 48,000")."""

    label: str
    value: int
    url: str = ""
    tone: str = ""
    text: str = ""


@dataclass(frozen=True)
class Bar:
    """One bar: `width` (a string, 0-100) is the bar's length relative to the scale, `share` the
    value's whole percentage of `total`."""

    label: str
    value: int
    url: str
    tone: str
    width: str
    share: int
    text: str = ""

    @property
    def display(self) -> str:
        """The value as printed: the datum's `text`, else the value with thousands separated ("50,000")."""
        return self.text or f"{self.value:,}"


@dataclass(frozen=True)
class Slice:
    """One donut segment: `dasharray` and `dashoffset` (strings) place it on the 100-unit circle."""

    label: str
    value: int
    url: str
    tone: str
    share: int
    dasharray: str
    dashoffset: str

    @property
    def display(self) -> str:
        """The value with thousands separated ("50,000")."""
        return f"{self.value:,}"


def _tone(datum: Datum, index: int) -> str:
    tone = datum.tone or SERIES[index % len(SERIES)]
    if tone not in TONES:
        raise ValueError(f"unknown chart tone {tone!r}; expected one of {', '.join(TONES)}")
    return tone


def _share(value: int, total: int) -> int:
    """The whole percentage of `value` in `total`; 0 < value still shows as at least 1 %."""
    if total <= 0 or value <= 0:
        return 0
    return max(1, round(100 * value / total))


def chart_bars(data: Iterable[Datum], *, total: int | None = None, scale: int | None = None) -> list[Bar]:
    """Bars for `data`, in the given order.

    `total` is what shares are of (default: the sum of the values); `scale` is the value of a full
    bar (default: the largest value, so the longest bar fills the row; pass `total` or a cap to
    draw parts of a whole). A value above zero is never drawn thinner than a hairline.
    """
    items = list(data)
    total = sum(item.value for item in items) if total is None else total
    scale = max((item.value for item in items), default=0) if scale is None else scale
    bars = []
    for index, item in enumerate(items):
        width = 0.0 if scale <= 0 else min(100.0, 100 * item.value / scale)
        if item.value > 0:
            width = max(width, 0.5)
        bars.append(
            Bar(
                label=item.label,
                value=item.value,
                url=item.url,
                tone=_tone(item, index),
                width=f"{width:.2f}",
                share=_share(item.value, total),
                text=item.text,
            )
        )
    return bars


def chart_donut(data: Iterable[Datum]) -> list[Slice]:
    """Donut segments for `data` (parts of their sum), clockwise from the top, in the given order.

    Zero values keep their place in the list (for the legend) with an empty segment.
    """
    items = list(data)
    total = sum(item.value for item in items)
    slices = []
    start = 0.0
    for index, item in enumerate(items):
        length = 0.0 if total <= 0 else 100 * item.value / total
        # A circle's dashes start at three o'clock; an offset of 25 moves the start to the top.
        slices.append(
            Slice(
                label=item.label,
                value=item.value,
                url=item.url,
                tone=_tone(item, index),
                share=_share(item.value, total),
                dasharray=f"{length:.3f} {100 - length:.3f}",
                dashoffset=f"{25 - start:.3f}",
            )
        )
        start += length
    return slices
