"""Charts as inline SVG, drawn in Python: the report needs no script and no chart library to render.

Each function returns one ``<svg>`` element with a ``<title>`` (read by screen readers) and at
least one mark; callers never pass an empty series (a section without data says so in words).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f5f8b", "#e07b39", "#3a9d5d", "#8e5ea2", "#c44e52", "#7f7f7f", "#b8860b", "#17becf")
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[str, float | None]]  # (x label, value); None leaves a gap


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" {FONT}><title>{escape(title)}</title>' + "".join(body) + "</svg>"
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


def horizontal_bars(
    title: str,
    bars: Sequence[tuple[str, float]],
    fmt: Callable[[float], str],
    errors: Sequence[float | None] | None = None,
    target: float | None = None,
    max_value: float | None = None,
    target_label: str = "target",
) -> str:
    """One bar per label, value printed at its end; optional error bars and a reference line."""
    if not bars:
        raise ValueError(f"chart {title!r} has no bars")
    label_w, bar_w, row_h = 230, 380, 24
    width, height = label_w + bar_w + 90, row_h * len(bars) + 24
    ends = [v + (e or 0) for (_, v), e in zip(bars, errors or [None] * len(bars), strict=True)]
    top = max_value or _nice_max(max(ends + ([target] if target is not None else [])))
    body: list[str] = []
    for i, (label, value) in enumerate(bars):
        y = 8 + i * row_h
        w = max(1.0, bar_w * value / top)
        body.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="mark" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {escape(fmt(value))}</title></rect>'
        )
        end = w
        if errors and errors[i] is not None:
            lo = label_w + bar_w * max(value - errors[i], 0) / top
            hi = label_w + bar_w * (value + errors[i]) / top
            body.append(
                f'<line x1="{lo:.1f}" x2="{hi:.1f}" y1="{y + 11}" y2="{y + 11}" stroke="#222" stroke-width="1.5"/>'
                f'<line x1="{lo:.1f}" x2="{lo:.1f}" y1="{y + 6}" y2="{y + 16}" stroke="#222"/>'
                f'<line x1="{hi:.1f}" x2="{hi:.1f}" y1="{y + 6}" y2="{y + 16}" stroke="#222"/>'
            )
            end = hi - label_w
        body.append(f'<text x="{label_w + end + 6:.1f}" y="{y + 15}">{escape(fmt(value))}</text>')
    if target is not None:
        x = label_w + bar_w * target / top
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="4" y2="{height - 14}" stroke="{PALETTE[4]}" stroke-dasharray="4 3"/>'
            f'<text x="{x:.1f}" y="{height - 2}" text-anchor="middle" fill="{PALETTE[4]}">'
            f"{escape(target_label)} {escape(fmt(target))}</text>"
        )
    return _svg(width, height, title, body)


def lines(
    title: str,
    series: Sequence[Series],
    fmt: Callable[[float], str],
    target: float | None = None,
    y_min: float = 0.0,
    y_max: float | None = None,
) -> str:
    """One line per series over shared x labels (in the order first seen), with a legend."""
    xs: list[str] = []
    for s in series:
        for x, _ in s.points:
            if x not in xs:
                xs.append(x)
    values = [v for s in series for _, v in s.points if v is not None]
    if not values:
        raise ValueError(f"chart {title!r} has no values")
    top = y_max or _nice_max(max(values + ([target] if target is not None else [])))
    left, right, plot_top, plot_h = 60, 36, 28, 220
    width = 720
    plot_w = width - left - right
    height = plot_top + plot_h + 40

    def px(i: int) -> float:
        return left + (plot_w * i / max(len(xs) - 1, 1))

    def py(v: float) -> float:
        return plot_top + plot_h - plot_h * (v - y_min) / (top - y_min)

    body = [f'<line x1="{left}" x2="{left}" y1="{plot_top}" y2="{plot_top + plot_h}" stroke="#999"/>']
    for k in range(5):
        v = y_min + (top - y_min) * k / 4
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{escape(fmt(v))}</text>'
        )
    every = max(1, len(xs) // 12)
    for i, x in enumerate(xs):
        if i % every == 0:
            body.append(f'<text x="{px(i):.1f}" y="{plot_top + plot_h + 16}" text-anchor="middle">{escape(x)}</text>')
    if target is not None:
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{py(target):.1f}" y2="{py(target):.1f}" '
            f'stroke="{PALETTE[4]}" stroke-dasharray="4 3"/>'
            f'<text x="{width - right}" y="{py(target) - 4:.1f}" text-anchor="end" fill="{PALETTE[4]}">'
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
        lx = left + 10 + n * 150
        body.append(
            f'<rect x="{lx}" y="6" width="12" height="12" fill="{color}"/>'
            f'<text x="{lx + 16}" y="16">{escape(s.name)}</text>'
        )
    return _svg(width, height, title, body)


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
