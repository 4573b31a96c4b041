"""Source profiles: one declarative YAML file per extract format (a city's export of one source).

A profile says which files it reads, how they are written (delimiter, quote, encoding),
which source column feeds each canonical field, how timestamps are written and in which
time zone, and how code values map onto the canonical vocabulary. See
``orchestration/source_profiles/README.md`` for the format, field by field.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from orchestration.landing.canonical import CANONICAL_SOURCES, CanonicalSource
from orchestration.landing.projection import PROJECTIONS

DEFAULT_TRUE = ("true", "t", "yes", "y", "1")
DEFAULT_FALSE = ("false", "f", "no", "n", "0")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
KEEP = "__keep__"  # ``otherwise`` not given: a value the mapping does not list is kept as it is
TOP_LEVEL_KEYS = {
    "name",
    "source",
    "description",
    "files",
    "timezone",
    "csv",
    "null_values",
    "timestamp_formats",
    "columns",
    "values",
    "constants",
    "booleans",
    "coordinates",
    "bounds",
    "notes",
    "api",
}
COORDINATE_FIELDS = ("latitude", "longitude")


class ProfileError(ValueError):
    """A profile file that cannot be used, with the file and the key at fault."""


@dataclass(frozen=True)
class CsvFormat:
    delimiter: str = ","
    quote: str = '"'
    encoding: str = "utf-8"


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
        """The column(s) to read in a file with this header, or None if it lacks them."""
        if self.line_number:
            return ()
        if self.join:
            return self.join if all(c in header for c in self.join) else None
        found = next((c for c in self.candidates if c in header), None)
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
    coordinates: Coordinates | None = None
    bounds: Bounds | None = None
    notes: dict[str, str] = field(default_factory=dict)
    api: ApiSource | None = None
    path: Path | None = None

    @property
    def canonical(self) -> CanonicalSource:
        return CANONICAL_SOURCES[self.source]

    def provides(self, canonical_field: str) -> bool:
        return (
            canonical_field in self.columns
            or canonical_field in self.constants
            or (self.coordinates is not None and canonical_field in COORDINATE_FIELDS)
        )

    @property
    def lacks(self) -> list[str]:
        """Canonical fields this city's extract does not provide (they land as NULL)."""
        return [f for f in self.canonical.fields if not self.provides(f)]

    def formats_for(self, canonical_field: str) -> tuple[str, ...]:
        return self.timestamp_formats.get(canonical_field) or self.timestamp_formats.get(
            "default", ("%Y-%m-%d %H:%M:%S",)
        )

    def source_columns(self) -> set[str]:
        """Every column name the profile reads (aliases included)."""
        cols = {c for spec in self.columns.values() for c in spec.source_columns}
        if self.coordinates:
            cols |= set(self.coordinates.source_columns)
        return cols

    def matching_files(self, landing_dir: Path) -> list[Path]:
        found: set[Path] = set()
        for pattern in self.files:
            found.update(p for p in landing_dir.glob(pattern) if p.is_file() and not p.name.startswith("."))
        return sorted(found)


def _as_tuple(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ProfileError(f"{where}: expected a string or a list of strings, got {value!r}")


def _mapping(raw, where: str) -> dict[str, str | None]:
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: expected a mapping of source value to canonical value, got {raw!r}")
    return {str(k): (None if v is None else _text(v)) for k, v in raw.items()}


def _text(v) -> str:
    """YAML scalars as the text landing compares with (YAML's true/false are spelled true/false)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _text_or_none(v) -> str | None:
    return None if v is None else _text(v)


def _field_source(spec, where: str) -> FieldSource:
    """A ``columns`` entry: "Col", ["Alias1", "Alias2"], {join: [...]} or {column: ..., values: ...}."""
    if isinstance(spec, str | list):
        return FieldSource(candidates=_as_tuple(spec, where))
    if not isinstance(spec, dict):
        raise ProfileError(f"{where}: expected a column name, a list of aliases or a mapping, got {spec!r}")
    unknown = set(spec) - {"column", "join", "separator", "values", "otherwise", "line_number"}
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if spec.get("line_number") is True:
        if len(spec) > 1:
            raise ProfileError(f"{where}: line_number stands alone (no column, join or values)")
        return FieldSource(line_number=True)
    if ("column" in spec) == ("join" in spec):
        raise ProfileError(f"{where}: give either 'column' (one column or its aliases) or 'join' (several columns)")
    join = _as_tuple(spec["join"], f"{where}.join") if "join" in spec else ()
    if "join" in spec and len(join) < 2:
        raise ProfileError(f"{where}.join: list at least two columns to join")
    return FieldSource(
        candidates=_as_tuple(spec["column"], f"{where}.column") if "column" in spec else (),
        join=join,
        separator=str(spec.get("separator", " ")),
        values=_mapping(spec["values"], f"{where}.values") if "values" in spec else None,
        otherwise=KEEP if "otherwise" not in spec else _text_or_none(spec["otherwise"]),
    )


def _coordinates(raw, where: str) -> Coordinates:
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: expected a mapping")
    missing = tuple(_text(v) for v in raw.get("missing", []) or [])
    if "point" in raw:
        return Coordinates(point=_field_source(raw["point"], f"{where}.point"), missing=missing)
    for key in ("x", "y", "projection"):
        if key not in raw:
            raise ProfileError(f"{where}: give 'point' (a WKT/GeoJSON point column) or 'x', 'y' and 'projection'")
    if raw["projection"] not in PROJECTIONS:
        raise ProfileError(f"{where}.projection: {raw['projection']!r} is not one of {sorted(PROJECTIONS)}")
    return Coordinates(
        x=_field_source(raw["x"], f"{where}.x"),
        y=_field_source(raw["y"], f"{where}.y"),
        projection=raw["projection"],
        missing=missing,
    )


def _bounds(raw, where: str) -> Bounds:
    keys = ("min_latitude", "max_latitude", "min_longitude", "max_longitude")
    if not isinstance(raw, dict) or set(raw) != set(keys):
        raise ProfileError(f"{where}: give exactly {', '.join(keys)}")
    try:
        b = Bounds(**{k: float(raw[k]) for k in keys})
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"{where}: bounds must be numbers") from exc
    if not (b.min_latitude < b.max_latitude and b.min_longitude < b.max_longitude):
        raise ProfileError(f"{where}: each min must be below its max")
    return b


def _api(raw, where: str) -> ApiSource:
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: expected a mapping")
    for key in ("url", "folder", "updated_field", "id_field"):
        if not raw.get(key):
            raise ProfileError(f"{where}: missing key '{key}'")
    page_size = raw.get("page_size", 1000)
    if not isinstance(page_size, int) or page_size < 1:
        raise ProfileError(f"{where}.page_size: a positive integer, got {page_size!r}")
    return ApiSource(
        url=str(raw["url"]),
        folder=str(raw["folder"]).strip("/"),
        updated_field=str(raw["updated_field"]),
        id_field=str(raw["id_field"]),
        page_size=page_size,
        app_token_env=raw.get("app_token_env"),
    )


def parse_profile(data: dict, path: Path | None = None) -> SourceProfile:
    """Check a profile's content and build it; every error names the file and the key."""
    where = str(path) if path else "<profile>"
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: a profile is a mapping of keys to values")
    for key in ("name", "source", "files", "columns"):
        if key not in data:
            raise ProfileError(f"{where}: missing key '{key}'")
    unknown = set(data) - TOP_LEVEL_KEYS
    if unknown:
        known = ", ".join(sorted(TOP_LEVEL_KEYS))
        raise ProfileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known keys: {known}")
    name, source = data["name"], data["source"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise ProfileError(f"{where}: name {name!r} must be lower_snake_case")
    if source not in CANONICAL_SOURCES:
        raise ProfileError(f"{where}: source {source!r} is not one of {sorted(CANONICAL_SOURCES)}")
    canonical = CANONICAL_SOURCES[source]
    columns = {k: _field_source(v, f"{where}: columns.{k}") for k, v in (data["columns"] or {}).items()}
    constants = {k: _text(v) for k, v in (data.get("constants") or {}).items()}
    coordinates = _coordinates(data["coordinates"], f"{where}: coordinates") if data.get("coordinates") else None
    for key in list(columns) + list(constants):
        if key not in canonical.fields:
            raise ProfileError(
                f"{where}: '{key}' is not a canonical field of {source}; known fields: {', '.join(canonical.fields)}"
            )
    if coordinates is not None:
        if not all(f in canonical.fields for f in COORDINATE_FIELDS):
            raise ProfileError(f"{where}: coordinates: {source} has no latitude/longitude")
        clash = [f for f in COORDINATE_FIELDS if f in columns or f in constants]
        if clash:
            raise ProfileError(f"{where}: coordinates: {', '.join(clash)} also mapped under columns; keep one")
    missing_required = [f for f in canonical.required if f not in columns and f not in constants]
    if missing_required:
        raise ProfileError(f"{where}: required canonical field(s) not mapped: {', '.join(missing_required)}")
    tz = data.get("timezone", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ProfileError(f"{where}: timezone {tz!r} is not an IANA time zone name") from exc
    raw_formats = data.get("timestamp_formats") or {}
    if not isinstance(raw_formats, dict):
        raw_formats = {"default": raw_formats}
    formats = {k: _as_tuple(v, f"{where}: timestamp_formats.{k}") for k, v in raw_formats.items()}
    values = {}
    for fld, mapping in (data.get("values") or {}).items():
        if fld not in canonical.fields:
            raise ProfileError(f"{where}: values.{fld}: not a canonical field of {source}")
        if fld in columns and columns[fld].values is not None:
            raise ProfileError(f"{where}: values.{fld}: the column mapping already has its own values; keep one")
        values[fld] = _mapping(mapping, f"{where}: values.{fld}")
    notes = {str(k): str(v).strip() for k, v in (data.get("notes") or {}).items()}
    for fld in notes:
        if fld not in canonical.fields:
            raise ProfileError(f"{where}: notes.{fld}: not a canonical field of {source}")
    csv_cfg = data.get("csv") or {}
    unknown_csv = set(csv_cfg) - {"delimiter", "quote", "encoding"}
    if unknown_csv:
        raise ProfileError(f"{where}: csv: unknown key(s) {', '.join(sorted(unknown_csv))}")
    encoding = str(csv_cfg.get("encoding", "utf-8"))
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ProfileError(f"{where}: csv.encoding {encoding!r} is not an encoding Python knows") from exc
    delimiter = str(csv_cfg.get("delimiter", ","))
    if len(delimiter) != 1:
        raise ProfileError(f"{where}: csv.delimiter must be one character, got {delimiter!r}")
    booleans = data.get("booleans") or {}
    return SourceProfile(
        name=name,
        source=source,
        description=str(data.get("description", "")).strip(),
        files=_as_tuple(data["files"], f"{where}: files"),
        columns=columns,
        timezone=tz,
        csv=CsvFormat(delimiter=delimiter, quote=str(csv_cfg.get("quote", '"')), encoding=encoding),
        timestamp_formats=formats,
        values=values,
        constants=constants,
        true_values=tuple(_text(v).lower() for v in booleans.get("true", DEFAULT_TRUE)),
        false_values=tuple(_text(v).lower() for v in booleans.get("false", DEFAULT_FALSE)),
        null_values=tuple(_text(v) for v in data.get("null_values", []) or []),
        coordinates=coordinates,
        bounds=_bounds(data["bounds"], f"{where}: bounds") if data.get("bounds") else None,
        notes=notes,
        api=_api(data["api"], f"{where}: api") if data.get("api") else None,
        path=path,
    )


def load_profile(path: Path) -> SourceProfile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    return parse_profile(data, path)


def load_profiles(profiles_dir: Path) -> dict[str, SourceProfile]:
    """Every ``*.yaml`` profile in the folder, by name; two files with one name is an error."""
    profiles: dict[str, SourceProfile] = {}
    for path in sorted(profiles_dir.glob("*.yaml")):
        profile = load_profile(path)
        if profile.name in profiles:
            raise ProfileError(
                f"{path}: profile name {profile.name!r} is already used by {profiles[profile.name].path}"
            )
        profiles[profile.name] = profile
    return profiles
