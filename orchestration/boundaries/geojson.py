"""Read a GeoJSON boundary file as its profile says: one area per feature, its id and name from the
named properties, its polygon reprojected from the profile's coordinate system to longitude and
latitude (WGS 84) with pyproj, all features at once.

A feature without an id, or whose geometry is missing, unreadable or not a polygon, is rejected
with its feature number and reason (it goes to ``raw.quarantine``); an invalid polygon (one that
crosses itself) is kept as received, for the gate to judge and name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer

from orchestration.boundaries.profile import BoundaryProfile

WGS84 = "EPSG:4326"
POLYGONAL = ("Polygon", "MultiPolygon")


class BoundaryFileError(ValueError):
    """The file as a whole cannot be read as the profile says (not JSON, not features, another CRS)."""


@dataclass(frozen=True)
class Rejected:
    row_number: int  # the feature's position in the file, from 1
    field: str
    error_type: str
    reason: str
    record: str


@dataclass
class BoundaryFile:
    ids: list[str] = field(default_factory=list)
    names: list[str | None] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    properties: list[dict] = field(default_factory=list)
    geometries: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))  # lon/lat
    rejected: list[Rejected] = field(default_factory=list)
    features_read: int = 0

    def area_sq_km(self) -> list[float]:
        """Each area's surface on the WGS 84 ellipsoid (geodesic, so any coordinate system gives the same)."""
        geod = Geod(ellps="WGS84")
        return [abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for g in self.geometries]


def _declared_crs(data: dict) -> str | None:
    """The coordinate system a file names in its (pre-RFC 7946) ``crs`` member, if any."""
    name = ((data.get("crs") or {}).get("properties") or {}).get("name")
    return str(name) if name else None


def to_lon_lat(geometries: np.ndarray, crs: str) -> np.ndarray:
    """Every geometry's coordinates from ``crs`` to longitude/latitude in one vectorised call."""
    if CRS.from_user_input(crs) == CRS.from_user_input(WGS84) or len(geometries) == 0:
        return geometries
    transformer = Transformer.from_crs(crs, WGS84, always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geometries, project)


def read_boundaries(path: Path, profile: BoundaryProfile) -> BoundaryFile:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BoundaryFileError(f"{Path(path).name}: not GeoJSON text ({exc})") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise BoundaryFileError(f"{Path(path).name}: not a GeoJSON FeatureCollection")
    declared = _declared_crs(data)
    if declared and CRS.from_user_input(declared) != CRS.from_user_input(profile.crs):
        raise BoundaryFileError(
            f"{Path(path).name}: the file says its coordinates are in {declared}, the profile {profile.name} says "
            f"{profile.crs}; set crs: in the profile to the file's system"
        )
    out = BoundaryFile()
    geoms = []
    for number, feature in enumerate(data.get("features") or [], start=1):
        out.features_read += 1
        props = (feature or {}).get("properties") or {}
        record = json.dumps(props, default=str)[:2000]
        area_id = props.get(profile.id_property)
        if area_id is None or str(area_id).strip() == "":
            out.rejected.append(
                Rejected(number, profile.id_property, "MISSING REQUIRED", f"no {profile.id_property} property", record)
            )
            continue
        wrong = [
            (prop, f"{prop} is {props.get(prop)!r}, not {what}")
            for prop, what in (
                (profile.population_property, "a number of residents"),
                (profile.margin_property, "a margin of error (a number of residents)"),
            )
            if prop and not _non_negative(props.get(prop))
        ]
        if wrong:
            out.rejected.append(Rejected(number, wrong[0][0], "INVALID VALUE", wrong[0][1], record))
            continue
        try:
            geometry = shapely.geometry.shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as exc:
            out.rejected.append(Rejected(number, "geometry", "INVALID VALUE", f"unreadable geometry: {exc}", record))
            continue
        if geometry.geom_type not in POLYGONAL or geometry.is_empty:
            out.rejected.append(
                Rejected(number, "geometry", "INVALID VALUE", f"a {geometry.geom_type}, not a polygon", record)
            )
            continue
        out.ids.append(str(area_id).strip())
        name = props.get(profile.name_property) if profile.name_property else None
        out.names.append(None if name is None else str(name))
        out.row_numbers.append(number)
        out.properties.append(props)
        geoms.append(geometry)
    out.geometries = to_lon_lat(np.array(geoms, dtype=object), profile.crs)
    return out


def _non_negative(value) -> bool:
    """A number of residents (or their margin): present, numeric, not negative."""
    try:
        return value is not None and float(value) >= 0
    except (TypeError, ValueError):
        return False
