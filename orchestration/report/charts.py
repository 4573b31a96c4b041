"""Charts as inline SVG, drawn in Python: the report needs no script and no chart library to render.

Each function returns one ``<svg>`` element with a ``<title>`` (read by screen readers) and at
least one mark; callers never pass an empty series (a section without data says so in words).

Charts are drawn for a phone first: WIDTH user units wide with FONT_SIZE text, shown at most
MAX_SCALE times their size on a wide screen, so text renders at 11 px or more on a 390 px screen
(tests/test_report_screens.py measures it) and never grows huge on a desktop. Bar labels sit on
their own line above the bar, so a long label needs no room beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f5f8b", "#e07b39", "#3a9d5d", "#8e5ea2", "#c44e52", "#7f7f7f", "#b8860b", "#17becf")
WIDTH = 360
FONT_SIZE = 13
MAX_SCALE = 1.2
CHAR_W = 0.6 * FONT_SIZE  # a generous average glyph width, to lay text out without measuring it
FONT = f'font-family="system-ui, sans-serif" font-size="{FONT_SIZE}"'


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[str, float | None]]  # (x label, value); None leaves a gap


def _svg(width: int, height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" width="100%" '
        f'style="max-width:{width * MAX_SCALE:.0f}px" role="img" aria-label="{escape(title)}" {FONT}>'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above the value (an axis end a reader can read)."""
    if value <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * base * (1 + 1e-9):
            return step * base
    return 10 * base


def _wrap(text: str, width: float) -> list[str]:
    """Words in lines that fit ``width`` user units (estimated with CHAR_W)."""
    per_line = max(8, int(width / CHAR_W))
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > per_line:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines or [""]


def _ticks(lo: float, hi: float, fmt: Callable[[float], str], room: float) -> list[float]:
    """Round ticks (steps of 1, 2 or 5 x 10^k) from ``lo`` up to ``hi``, as many as their labels fit in ``room``."""
    span = (hi - lo) or 1.0
    base = 10 ** math.floor(math.log10(span / 4))
    for step in (base * m for m in (1, 2, 5, 10, 20, 50)):
        if span / step > 6:
            continue
        ticks = [lo + k * step for k in range(int(span / step + 1e-9) + 1)]
        widest = max(len(fmt(v)) for v in ticks) * CHAR_W
        if widest + 10 < room * step / span:
            return ticks
    return [lo, hi]


def horizontal_bars(
    title: str,
    bars: Sequence[tuple[str, float]],
    fmt: Callable[[float], str],
    errors: Sequence[float | None] | None = None,
    target: float | None = None,
    max_value: float | None = None,
    target_label: str = "target",
    min_value: float = 0.0,
    intervals: Sequence[tuple[float, float] | None] | None = None,
) -> str:
    """One bar per label (label above it, value at its end) over an axis from ``min_value``;
    optional error bars (symmetric ``errors``, or ``intervals`` as (low, high), e.g. a Wilson
    interval) and a reference line."""
    if not bars:
        raise ValueError(f"chart {title!r} has no bars")
    left, value_room = 4, 74
    bar_w = WIDTH - left - value_room
    if intervals is None:
        intervals = [
            None if e is None else (v - e, v + e) for (_, v), e in zip(bars, errors or [None] * len(bars), strict=True)
        ]
    errs = list(intervals)
    ends = [max(v, r[1]) if r else v for (_, v), r in zip(bars, errs, strict=True)]
    top = max_value or _nice_max(max(ends + ([target] if target is not None else [])))
    span = (top - min_value) or 1.0

    def px(v: float) -> float:
        return left + bar_w * (min(max(v, min_value), top) - min_value) / span

    body: list[str] = []
    y = 4.0
    for (label, value), err in zip(bars, errs, strict=True):
        for line in _wrap(label, WIDTH - left):
            y += FONT_SIZE + 3
            body.append(f'<text x="{left}" y="{y:.1f}">{escape(line)}</text>')
        top_y = y + 4
        w = max(1.0, px(value) - left)
        body.append(
            f'<rect class="mark" x="{left}" y="{top_y:.1f}" width="{w:.1f}" height="14" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {escape(fmt(value))}</title></rect>"
        )
        end = left + w
        if err is not None:
            lo, hi = px(err[0]), px(err[1])
            mid = top_y + 7
            body.append(
                f'<line x1="{lo:.1f}" x2="{hi:.1f}" y1="{mid:.1f}" y2="{mid:.1f}" stroke="#222" stroke-width="1.5"/>'
                f'<line x1="{lo:.1f}" x2="{lo:.1f}" y1="{mid - 5:.1f}" y2="{mid + 5:.1f}" stroke="#222"/>'
                f'<line x1="{hi:.1f}" x2="{hi:.1f}" y1="{mid - 5:.1f}" y2="{mid + 5:.1f}" stroke="#222"/>'
            )
            end = max(end, hi)
        body.append(f'<text x="{end + 5:.1f}" y="{top_y + 12:.1f}">{escape(fmt(value))}</text>')
        y = top_y + 20
    axis_y = y + 2
    body.append(f'<line x1="{left}" x2="{left + bar_w}" y1="{axis_y:.1f}" y2="{axis_y:.1f}" stroke="#999"/>')
    for i, v in enumerate(_ticks(min_value, top, fmt, bar_w)):
        anchor = "start" if i == 0 else ("end" if px(v) > left + bar_w - 20 else "middle")
        body.append(
            f'<line x1="{px(v):.1f}" x2="{px(v):.1f}" y1="{axis_y:.1f}" y2="{axis_y + 4:.1f}" stroke="#999"/>'
            f'<text x="{px(v):.1f}" y="{axis_y + FONT_SIZE + 5:.1f}" text-anchor="{anchor}" fill="#57606a">'
            f"{escape(fmt(v))}</text>"
        )
    height = axis_y + FONT_SIZE + 10
    if target is not None:
        x = px(target)
        label = f"{target_label} {fmt(target)}"
        anchor = "end" if x > left + bar_w / 2 else "start"
        height += FONT_SIZE + 4
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="4" y2="{axis_y:.1f}" stroke="{PALETTE[4]}" stroke-dasharray="4 3"/>'
            f'<text x="{x:.1f}" y="{height - 4:.1f}" text-anchor="{anchor}" fill="{PALETTE[4]}">{escape(label)}</text>'
        )
    return _svg(WIDTH, height, title, body)


def _legend(series: Sequence[Series] | Sequence[Curve]) -> tuple[list[str], float]:
    """Legend swatches laid out in rows across the width; returns the marks and the height used."""
    body, x, y = [], 4.0, 4.0
    for n, s in enumerate(series):
        item_w = 18 + len(s.name) * CHAR_W + 14
        if x > 4 and x + item_w > WIDTH:
            x, y = 4.0, y + FONT_SIZE + 6
        color = PALETTE[n % len(PALETTE)]
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" fill="{color}"/>'
            f'<text x="{x + 16:.1f}" y="{y + 11:.1f}">{escape(s.name)}</text>'
        )
        x += item_w
    return body, y + FONT_SIZE + 8


def lines(
    title: str,
    series: Sequence[Series],
    fmt: Callable[[float], str],
    target: float | None = None,
    y_min: float = 0.0,
    y_max: float | None = None,
) -> str:
    """One line per series over shared x labels (in the order first seen), with a legend above."""
    xs: list[str] = []
    for s in series:
        for x, _ in s.points:
            if x not in xs:
                xs.append(x)
    values = [v for s in series for _, v in s.points if v is not None]
    if not values:
        raise ValueError(f"chart {title!r} has no values")
    top = y_max or _nice_max(max(values + ([target] if target is not None else [])))
    ticks = [y_min + (top - y_min) * k / 4 for k in range(5)]
    left = max(len(fmt(v)) for v in ticks) * CHAR_W + 10
    right = 14
    body, plot_top = _legend(series)
    plot_top += 6
    plot_h = 180
    plot_w = WIDTH - left - right
    height = plot_top + plot_h + FONT_SIZE + 12

    def px(i: int) -> float:
        return left + (plot_w * i / max(len(xs) - 1, 1))

    def py(v: float) -> float:
        return plot_top + plot_h - plot_h * (v - y_min) / (top - y_min)

    body.append(f'<line x1="{left:.1f}" x2="{left:.1f}" y1="{plot_top}" y2="{plot_top + plot_h}" stroke="#999"/>')
    for v in ticks:
        body.append(
            f'<line x1="{left:.1f}" x2="{WIDTH - right}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#eee"/>'
            f'<text x="{left - 6:.1f}" y="{py(v) + 4:.1f}" text-anchor="end" fill="#57606a">{escape(fmt(v))}</text>'
        )
    room = max(len(x) for x in xs) * CHAR_W + 12
    every = max(1, math.ceil(len(xs) / max(1, int(plot_w / room))))
    for i, x in enumerate(xs):
        if i % every == 0:
            body.append(
                f'<text x="{px(i):.1f}" y="{plot_top + plot_h + FONT_SIZE + 4:.1f}" text-anchor="middle" '
                f'fill="#57606a">{escape(x)}</text>'
            )
    if target is not None:
        body.append(
            f'<line x1="{left:.1f}" x2="{WIDTH - right}" y1="{py(target):.1f}" y2="{py(target):.1f}" '
            f'stroke="{PALETTE[4]}" stroke-dasharray="4 3"/>'
            f'<text x="{WIDTH - right}" y="{py(target) - 4:.1f}" text-anchor="end" fill="{PALETTE[4]}">'
            f"target {escape(fmt(target))}</text>"
        )
    for n, s in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        at = {x: v for x, v in s.points}
        segments, current = [], []
        for i, x in enumerate(xs):
            v = at.get(x)
            if v is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append((px(i), py(v), x, v))
        if current:
            segments.append(current)
        for seg in segments:
            d = " ".join(f"{'M' if j == 0 else 'L'}{a:.1f},{b:.1f}" for j, (a, b, _, _) in enumerate(seg))
            body.append(f'<path class="mark" d="{d}" fill="none" stroke="{color}" stroke-width="2"/>')
            for a, b, x, v in seg:
                body.append(
                    f'<circle class="mark" cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{color}">'
                    f"<title>{escape(s.name)}, {escape(x)}: {escape(fmt(v))}</title></circle>"
                )
    return _svg(WIDTH, height, title, body)


def sparkline(title: str, values: Sequence[float | None]) -> str:
    """A small line of a KPI over its periods (no axes): the trend at a glance."""
    present = [v for v in values if v is not None]
    if not present:
        raise ValueError(f"sparkline {title!r} has no values")
    lo, hi = min(present), max(present)
    span = (hi - lo) or 1.0
    width, height = 120, 28
    pts = [
        (4 + (width - 8) * i / max(len(values) - 1, 1), height - 4 - (height - 8) * (v - lo) / span)
        for i, v in enumerate(values)
        if v is not None
    ]
    d = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(pts))
    last_x, last_y = pts[-1]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<path class="mark" d="{d}" fill="none" stroke="{PALETTE[0]}" stroke-width="1.5"/>'
        f'<circle class="mark" cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.5" fill="{PALETTE[0]}"/></svg>'
    )


@dataclass(frozen=True)
class Curve:
    name: str
    points: Sequence[tuple[float, float]]  # (x, y), both shares from 0 to 1
    dashed: bool = False


@dataclass(frozen=True)
class Band:
    """A published range of x at one y (a benchmark: 'half of the crime at 2-6 % of places')."""

    y: float
    x_low: float
    x_high: float
    label: str


def share_curve(title: str, x_label: str, y_label: str, curves: Sequence[Curve], bands: Sequence[Band] = ()) -> str:
    """Curves of one share against another on 0-100 % axes (a Lorenz-style concentration curve),
    each from (0, 0), with benchmark ranges drawn as thick bars and labelled."""
    if not any(c.points for c in curves):
        raise ValueError(f"chart {title!r} has no values")
    body, plot_top = _legend(curves)
    plot_top += 6
    left, right, plot_h = 4 * CHAR_W + 10, 22, 220
    plot_w = WIDTH - left - right
    height = plot_top + plot_h + 2 * FONT_SIZE + 16

    def px(v: float) -> float:
        return left + plot_w * v

    def py(v: float) -> float:
        return plot_top + plot_h - plot_h * v

    for k in range(5):
        v = k / 4
        body.append(
            f'<line x1="{left:.1f}" x2="{WIDTH - right}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#eee"/>'
            f'<text x="{left - 6:.1f}" y="{py(v) + 4:.1f}" text-anchor="end" fill="#57606a">{v:.0%}</text>'
            f'<text x="{px(v):.1f}" y="{plot_top + plot_h + FONT_SIZE + 4:.1f}" text-anchor="middle" '
            f'fill="#57606a">{v:.0%}</text>'
        )
    body.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 4:.1f}" text-anchor="middle" fill="#57606a">'
        f"{escape(x_label)}</text>"
        f'<text x="{left + 2:.1f}" y="{plot_top + FONT_SIZE:.1f}" fill="#57606a">{escape(y_label)}</text>'
    )
    for band in bands:
        body.append(
            f'<line class="mark" x1="{px(band.x_low):.1f}" x2="{px(band.x_high):.1f}" y1="{py(band.y):.1f}" '
            f'y2="{py(band.y):.1f}" stroke="{PALETTE[5]}" stroke-width="7"><title>{escape(band.label)}</title></line>'
            f'<text x="{px(band.x_high) + 6:.1f}" y="{py(band.y) + 4:.1f}" fill="{PALETTE[5]}">'
            f"{escape(band.label)}</text>"
        )
    for n, curve in enumerate(curves):
        color = PALETTE[n % len(PALETTE)]
        path = " ".join(f"L{px(x):.1f},{py(y):.1f}" for x, y in curve.points)
        dash = ' stroke-dasharray="5 4"' if curve.dashed else ""
        body.append(
            f'<path class="mark" d="M{px(0):.1f},{py(0):.1f} {path}" fill="none" stroke="{color}" '
            f'stroke-width="2"{dash}><title>{escape(curve.name)}</title></path>'
        )
    return _svg(WIDTH, height, title, body)
