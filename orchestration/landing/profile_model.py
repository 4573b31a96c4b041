"""What a source profile is, once read: ``SourceProfile`` and its parts (CSV format, field
sources, coordinates, bounds, API folder, lookups), and the vocabulary a profile may use.
``profile_schema.py`` checks a profile's YAML; ``profiles.py`` reads the files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.landing.canonical import CANONICAL_SOURCES, CanonicalSource
from orchestration.landing.projection import PROJECTIONS

DEFAULT_TRUE = ("true", "t", "yes", "y", "1")
DEFAULT_FALSE = ("false", "f", "no", "n", "0")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
# Times written as a count since 1970-01-01 UTC (ArcGIS exports, JSON APIs): format name -> divisor
EPOCH_FORMATS = {"epoch_seconds": 1, "epoch_milliseconds": 1000}
KEEP = "__keep__"  # ``otherwise`` not given: a value the mapping does not list is kept as it is
TOP_LEVEL_KEYS = {
    "name",
    "source",
    "description",
    "files",
    "timezone",
    "csv",
    "null_values",
    "missing_values",
    "grain",
    "timestamp_formats",
    "columns",
    "values",
    "constants",
    "booleans",
    "coordinates",
    "bounds",
    "accepted_values",
    "notes",
    "api",
    "lookups",
    "city",
    "city_name",
}
COORDINATE_FIELDS = ("latitude", "longitude")
# what landing fills for an extract of one row per responding unit when the file does not map it
UNIT_GRAIN_FIELDS = ("unit_id", "units_assigned")
# The fields a lookup file may fill, per source whose staging joins lookups (the macro
# lookup_fills, called with the same lists): places and descriptions, never the record's id, a
# required field (landing checks those row by row) or a time (it belongs to the record).
LOOKUP_FIELDS = {
    "calls_for_service": (
        "call_source", "call_type_description", "priority", "disposition", "beat", "district",
        "block_address", "latitude", "longitude", "agency",
    ),
    "incidents": (
        "offence_description", "offence_category", "beat", "district", "block_address", "latitude", "longitude",
    ),
}  # fmt: skip


class ProfileError(ValueError):
    """A profile file that cannot be used, with the file and the key at fault."""


@dataclass(frozen=True)
class CsvFormat:
    delimiter: str = ","
    quote: str = '"'
    encoding: str = "utf-8"


def spelling(name: str) -> str:
    """A column name without case, spaces or separators: "Call Type", "call_type", "CallType",
    "Call-Type" are one name. Any other character counts (a control byte in a header is not a
    separator: such a file is refused, not read)."""
    return re.sub(r"[ \t_\-./():#]", "", name.lower())


def header_column(name: str, header: set[str]) -> str | None:
    """The header's column for a name: as written, else the one column spelt the same way (None
    when none is, or when two are and neither is as written)."""
    if name in header:
        return name
    same = [c for c in header if spelling(c) == spelling(name)]
    return same[0] if len(same) == 1 else None


@dataclass(frozen=True)
class FieldSource:
    """Where one canonical field comes from: a column (or the first of its aliases found in the
    header), or several columns joined; optionally with its own value mapping."""

    candidates: tuple[str, ...] = ()
    join: tuple[str, ...] = ()
    separator: str = " "
    values: dict[str, str | None] | None = None
    otherwise: str | None = KEEP
    line_number: bool = False  # the id of a file without one: "<file>:<line the record starts on>"
    match: str = "exact"  # "prefix": a value mapping's keys are the start of the value (EMS: ...)

    @property
    def source_columns(self) -> tuple[str, ...]:
        return self.join or self.candidates

    def describe(self) -> str:
        if self.line_number:
            return "(line number)"
        if self.join:
            return " + ".join(self.join)
        return " | ".join(self.candidates)

    def resolve(self, header: set[str]) -> tuple[str, ...] | None:
        """The column(s) to read in a file with this header, or None if it lacks them. A name is
        found as written, else written another way (case, spaces, underscores, punctuation): an
        open-data API serves "Call Type" as call_type, "NOPD_Item" as nopd_item."""
        if self.line_number:
            return ()
        if self.join:
            found = tuple(header_column(c, header) for c in self.join)
            return found if all(found) else None
        found = next((c for c in self.candidates if c in header), None)
        found = found or next(filter(None, (header_column(c, header) for c in self.candidates)), None)
        return (found,) if found else None

    def wanted(self) -> str:
        if self.join:
            return " and ".join(self.join)
        if len(self.candidates) == 1:
            return self.candidates[0]
        return "one of " + ", ".join(self.candidates)


@dataclass(frozen=True)
class Coordinates:
    """Latitude/longitude derived at landing: from projected x/y, or from one point column."""

    x: FieldSource | None = None
    y: FieldSource | None = None
    projection: str | None = None
    point: FieldSource | None = None
    missing: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.point:
            return f"{self.point.describe()} (point, longitude first)"
        epsg = PROJECTIONS[self.projection].epsg
        return f"{self.x.describe()} / {self.y.describe()} ({self.projection}, EPSG:{epsg})"

    @property
    def source_columns(self) -> tuple[str, ...]:
        if self.point:
            return self.point.source_columns
        return self.x.source_columns + self.y.source_columns


@dataclass(frozen=True)
class Bounds:
    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float


@dataclass(frozen=True)
class ApiSource:
    """A Socrata-style open-data API the rows can also be pulled from (see orchestration/landing/socrata.py)."""

    url: str
    folder: str
    updated_field: str
    id_field: str
    page_size: int = 1000
    app_token_env: str | None = None


@dataclass(frozen=True)
class Lookup:
    """A second file joined to the profile's records in staging (a locations table, a code table):
    its ``key`` column matches the records' ``record_column``; ``columns`` fill canonical fields
    (canonical field -> the lookup file's column) where the record's own value is empty."""

    name: str
    files: tuple[str, ...]
    key: str
    record_column: str
    columns: dict[str, str]

    def matching_files(self, landing_dir: Path) -> list[Path]:
        found: set[Path] = set()
        for pattern in self.files:
            found.update(p for p in landing_dir.glob(pattern) if p.is_file() and not p.name.startswith("."))
        return sorted(found)


@dataclass(frozen=True)
class SourceProfile:
    name: str
    source: str
    description: str
    files: tuple[str, ...]
    columns: dict[str, FieldSource]
    timezone: str = "UTC"
    csv: CsvFormat = field(default_factory=CsvFormat)
    timestamp_formats: dict[str, tuple[str, ...]] = field(default_factory=dict)
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    true_values: tuple[str, ...] = DEFAULT_TRUE
    false_values: tuple[str, ...] = DEFAULT_FALSE
    null_values: tuple[str, ...] = ()
    # per field: placeholders the city writes for "none" (e.g. Jan 01 1900 00:00:00:000AM for no arrival)
    missing_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # "call": one row per call; "unit": one row per responding unit, the call id repeated
    grain: str = "call"
    coordinates: Coordinates | None = None
    bounds: Bounds | None = None
    # per canonical field: the codes the city uses (as landed); the raw gate holds a file with others
    accepted_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    api: ApiSource | None = None
    lookups: dict[str, Lookup] = field(default_factory=dict)
    # the city the extract belongs to (its id and the name the report shows); without them the
    # reference seed city_names.csv says, and a profile in neither is a city of its own
    city: str | None = None
    city_name: str | None = None
    path: Path | None = None

    @property
    def canonical(self) -> CanonicalSource:
        return CANONICAL_SOURCES[self.source]

    def provides(self, canonical_field: str) -> bool:
        return (
            canonical_field in self.columns
            or canonical_field in self.constants
            or (self.coordinates is not None and canonical_field in COORDINATE_FIELDS)
            or (self.grain == "unit" and canonical_field in UNIT_GRAIN_FIELDS)
            or canonical_field == "agency"  # not mapped: a police feed, every record police
            or any(canonical_field in lookup.columns for lookup in self.lookups.values())
        )

    @property
    def lacks(self) -> list[str]:
        """Canonical fields this city's extract does not provide (they land as NULL); a unit on
        each row is not lacking from an extract of one row per call."""
        return [
            f for f in self.canonical.fields if not self.provides(f) and not (f == "unit_id" and self.grain == "call")
        ]

    def formats_for(self, canonical_field: str) -> tuple[str, ...]:
        return self.timestamp_formats.get(canonical_field) or self.timestamp_formats.get(
            "default", ("%Y-%m-%d %H:%M:%S",)
        )

    def source_columns(self) -> set[str]:
        """Every column name the profile reads (aliases included)."""
        cols = {c for spec in self.columns.values() for c in spec.source_columns}
        if self.coordinates:
            cols |= set(self.coordinates.source_columns)
        return cols | {lookup.record_column for lookup in self.lookups.values()}

    def lookup_files(self, landing_dir: Path) -> set[Path]:
        """The files its lookups read: never landed as records of the profile itself."""
        return {p for lookup in self.lookups.values() for p in lookup.matching_files(landing_dir)}

    def matching_files(self, landing_dir: Path) -> list[Path]:
        found: set[Path] = set()
        for pattern in self.files:
            # links are kept (landing refuses them, saying so) rather than silently followed or skipped
            found.update(
                p for p in landing_dir.glob(pattern) if (p.is_symlink() or p.is_file()) and not p.name.startswith(".")
            )
        return sorted(found - self.lookup_files(landing_dir))


# --------------------------------------------------------------------------------------------
# The schema: what a profile file may contain (pydantic), then the checks across keys
# --------------------------------------------------------------------------------------------
