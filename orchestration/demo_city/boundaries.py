"""The demo city's beat polygons, as a city's GIS office would export them (GeoJSON).

Each beat is the rectangle of the grid the generator draws its records in (``build_areas``), so
the beats tile the city with no gap or overlap and every record's coordinates fall in the beat
it names: the planted beats are where their records are. Nothing random is drawn here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

BEATS_FILE = "beats.geojson"


def beat_features(areas: pd.DataFrame) -> list[dict]:
    """One GeoJSON feature per beat: its rectangle (counter-clockwise, closed) and its names."""
    features = []
    for r in areas.itertuples():
        ring = [
            [r.min_longitude, r.min_latitude],
            [r.max_longitude, r.min_latitude],
            [r.max_longitude, r.max_latitude],
            [r.min_longitude, r.max_latitude],
            [r.min_longitude, r.min_latitude],
        ]
        features.append(
            {
                "type": "Feature",
                "properties": {"BEAT_NUM": r.beat, "BEAT_NAME": r.beat_name, "DISTRICT": r.district},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return features


def write_beat_boundaries(areas: pd.DataFrame, path: Path) -> int:
    """Write the beats as a GeoJSON FeatureCollection (longitude/latitude, RFC 7946); returns the count."""
    features = beat_features(areas)
    Path(path).write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return len(features)


TRACTS_FILE = "tracts.geojson"
TRACT_COLUMNS, TRACT_ROWS = 8, 6  # a grid that does not line up with the 5 x 4 beats


def tract_margin(residents: int) -> int:
    """The demo tract's margin of error at 90 % confidence, shaped like an ACS 5-year estimate of
    total population (table B01003) for a tract: a floor plus about 8 % of the estimate."""
    return int(round(60 + 0.08 * residents))


def tract_features(areas: pd.DataFrame, columns: int = TRACT_COLUMNS, rows: int = TRACT_ROWS) -> list[dict]:
    """Census tracts over the same city, cut on another grid than the beats, each with the residents
    the beats' own populations put there (each beat's residents spread evenly over it). Area-weighting
    them back to beats assumes residents are spread evenly over each *tract*, which they are not
    where a tract straddles beats of different density: the gap is the method's error, measured. Another
    grid (``columns`` x ``rows``) gives finer units, such as block groups."""
    import shapely

    beats = [shapely.box(r.min_longitude, r.min_latitude, r.max_longitude, r.max_latitude) for r in areas.itertuples()]
    x0, x1 = areas["min_longitude"].min(), areas["max_longitude"].max()
    y0, y1 = areas["min_latitude"].min(), areas["max_latitude"].max()
    dx, dy = (x1 - x0) / columns, (y1 - y0) / rows
    features = []
    for row in range(rows):
        for col in range(columns):
            tract = shapely.box(x0 + col * dx, y0 + row * dy, x0 + (col + 1) * dx, y0 + (row + 1) * dy)
            residents = sum(
                p * tract.intersection(b).area / b.area for p, b in zip(areas["population"], beats, strict=True)
            )
            ring = [[round(x, 7), round(y, 7)] for x, y in tract.exterior.coords]
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "GEOID": f"17999{row + 1:02d}{col + 1:04d}",
                        "POP": int(round(residents)),
                        "POP_MOE": tract_margin(int(round(residents))),
                    },
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    return features


def write_tracts(areas: pd.DataFrame, path: Path) -> dict[str, int]:
    """Write the tracts (GeoJSON, longitude/latitude); returns each tract's residents."""
    features = tract_features(areas)
    Path(path).write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return {f["properties"]["GEOID"]: f["properties"]["POP"] for f in features}
