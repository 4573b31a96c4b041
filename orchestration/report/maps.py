"""Choropleth maps as inline SVG, drawn in Python from the published polygons (no tiles, no
network, no script): each area filled by its class, areas without a publishable value hatched
and said so in the legend, a legend with units, and a text alternative (a table of every area's
value) beside the map.

Coordinates are longitude/latitude; the map uses an equirectangular projection scaled by the
cosine of the city's middle latitude, which keeps shapes true at a city's size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

import shapely

from orchestration.report.charts import CHAR_W, FONT, FONT_SIZE, MAX_SCALE, WIDTH

SEQUENTIAL = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
DIVERGING = ("#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b")
HATCH_ID = "map-hatch"


@dataclass(frozen=True)
class MapClass:
    label: str  # as the legend shows it, with units
    color: str


def _rings(geom) -> list:
    polys = list(getattr(geom, "geoms", [geom]))
    return [ring for p in polys for ring in (p.exterior, *p.interiors)]


def choropleth(
    title: str,
    areas: dict[str, object],
    classify: Callable[[str], MapClass | None],
    classes: Sequence[MapClass],
    legend_title: str,
    missing_label: str,
) -> str:
    """One SVG map: ``areas`` maps area id to a lon/lat polygon; ``classify`` gives an area's class,
    or None for an area without a publishable value (hatched, ``missing_label`` in the legend)."""
    if not areas:
        raise ValueError(f"map {title!r} has no areas")
    geoms = list(areas.values())
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    k = math.cos(math.radians((ymin + ymax) / 2))
    map_w = WIDTH - 8
    scale = map_w / ((xmax - xmin) * k or 1)
    map_h = (ymax - ymin) * scale

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return 4 + (lon - xmin) * k * scale, 4 + (ymax - lat) * scale

    body = [
        f'<defs><pattern id="{HATCH_ID}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#8c959f" stroke-width="2"/></pattern></defs>'
    ]
    labels = []
    for area_id, geom in areas.items():
        cls = classify(area_id)
        fill = cls.color if cls else f"url(#{HATCH_ID})"
        d = " ".join(
            "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in (xy(*c) for c in ring.coords)) + " Z"
            for ring in _rings(geom)
        )
        what = cls.label if cls else missing_label
        body.append(
            f'<path class="mark area" d="{d}" fill="{fill}" stroke="#57606a" stroke-width="0.8" '
            f'fill-rule="evenodd"><title>{escape(area_id)}: {escape(what)}</title></path>'
        )
        point = geom.representative_point()
        x, y = xy(point.x, point.y)
        box = shapely.bounds(geom)
        if (box[2] - box[0]) * k * scale > len(area_id) * CHAR_W + 4:
            dark = cls is not None and cls.color in (SEQUENTIAL[3], SEQUENTIAL[4], DIVERGING[0], DIVERGING[4])
            labels.append(
                f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" fill="{"#fff" if dark else "#1f2328"}">'
                f"{escape(area_id)}</text>"
            )
    body += labels
    # the legend, below the map: its title (with units), one swatch per class, the hatch
    y = map_h + 12 + FONT_SIZE
    legend = [f'<text x="4" y="{y:.1f}" font-weight="600">{escape(legend_title)}</text>']
    entries = [(c.color, c.label) for c in classes] + [(f"url(#{HATCH_ID})", missing_label)]
    x = 4.0
    for color, label in entries:
        item_w = 20 + len(label) * CHAR_W + 12
        if x > 4 and x + item_w > WIDTH:
            x, y = 4.0, y + FONT_SIZE + 8
        elif x == 4.0:
            y += FONT_SIZE + 8
        legend.append(
            f'<rect x="{x:.1f}" y="{y - 11:.1f}" width="14" height="14" fill="{color}" stroke="#57606a"/>'
            f'<text x="{x + 19:.1f}" y="{y:.1f}">{escape(label)}</text>'
        )
        x += item_w
    body.append('<g class="legend">' + "".join(legend) + "</g>")
    height = y + 8
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" '
        f'style="max-width:{WIDTH * MAX_SCALE:.0f}px" role="img" aria-label="{escape(title)}" {FONT}>'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def breaks(values: Sequence[float], n: int = 5) -> list[float]:
    """Class limits at the quantiles of the values (n classes: n - 1 inner limits), rounded to 2 figures."""
    ordered = sorted(values)
    if not ordered:
        return []
    inner = [ordered[min(len(ordered) - 1, int(len(ordered) * i / n))] for i in range(1, n)]
    return sorted({float(f"{v:.2g}") for v in inner})


def text_alternative(caption: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The map in words: a table of every area's value, folded under the map."""
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f'<details class="text-alternative"><summary>{escape(caption)}</summary>'
        f'<div class="scroll"><table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table></div></details>'
    )
