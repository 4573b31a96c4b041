"""Source profiles: one declarative YAML file per extract format (a city's export of one source).

A profile says which files it reads, how they are written (delimiter, quote, encoding),
which source column feeds each canonical field, how timestamps are written and in which
time zone, and how code values map onto the canonical vocabulary. See
``orchestration/source_profiles/README.md`` for the format, field by field.
"""

from __future__ import annotations

import codecs
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from orchestration.landing.canonical import CANONICAL_SOURCES, CanonicalSource
from orchestration.landing.projection import PROJECTIONS

DEFAULT_TRUE = ("true", "t", "yes", "y", "1")
DEFAULT_FALSE = ("false", "f", "no", "n", "0")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
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
def _scalar(v):
    """A YAML scalar as the text landing compares with (YAML's true/false are spelled true/false)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str | int | float):
        return str(v)
    raise ValueError("expected a single value (text, a number or yes/no)")


def _names(v):
    """One column name or a non-empty list of them (a YAML string is one name, never its letters)."""
    if isinstance(v, str):
        return (v,)
    if isinstance(v, list | tuple) and v and all(isinstance(x, str) for x in v):
        return tuple(v)
    raise ValueError("expected a string or a list of strings")


Text = Annotated[str, BeforeValidator(_scalar)]
Key = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, str | int | float | bool) else v)]
Names = Annotated[tuple[str, ...], BeforeValidator(_names)]
TextList = tuple[Text, ...]  # a YAML list: a plain string is refused, not split into characters


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Schema):
    column: Names | None = None
    join: Annotated[tuple[str, ...], Field(min_length=2)] | None = None
    separator: Text = " "
    values: dict[Key, Text | None] | None = None
    otherwise: Text | None = None
    line_number: bool | None = None
    match: Literal["exact", "prefix"] = "exact"

    @model_validator(mode="after")
    def _one_way(self):
        if self.match == "prefix" and self.values is None:
            raise ValueError("match: prefix applies to a value mapping: give 'values' too")
        if self.line_number:
            if self.model_fields_set - {"line_number"}:
                raise ValueError("line_number stands alone (no column, join or values)")
            return self
        if (self.column is None) == (self.join is None):
            raise ValueError("give either 'column' (one column or its aliases) or 'join' (several columns)")
        return self


def _column_kind(v) -> str | None:
    if isinstance(v, dict):
        return "<mapping>"
    if isinstance(v, str | list):
        return "<names>"
    return None


Column = Annotated[
    Annotated[Names, Tag("<names>")] | Annotated[ColumnSpec, Tag("<mapping>")],
    Discriminator(
        _column_kind,
        custom_error_type="column",
        custom_error_message="expected a column name, a list of aliases or a mapping (column/join/values)",
    ),
]
_TAGS = {"<names>", "<mapping>"}


class CsvSchema(_Schema):
    delimiter: str = ","
    quote: str = '"'
    encoding: str = "utf-8"

    @field_validator("delimiter", "quote")
    @classmethod
    def _one_character(cls, v: str) -> str:
        if len(v) != 1:
            raise ValueError("must be exactly one character")
        if v in "\r\n":
            raise ValueError("a line break cannot separate or quote fields")
        return v

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError("is not an encoding Python knows (e.g. utf-8, cp1252, latin-1, utf-16)") from None
        return v

    @model_validator(mode="after")
    def _distinct(self):
        if self.delimiter == self.quote:
            raise ValueError("csv.delimiter and csv.quote must differ")
        return self


class CoordinatesSchema(_Schema):
    x: Column | None = None
    y: Column | None = None
    projection: str | None = None
    point: Column | None = None
    missing: TextList = ()

    @model_validator(mode="after")
    def _point_or_xy(self):
        if self.point is None and (self.x is None or self.y is None or self.projection is None):
            raise ValueError("give 'point' (a WKT/GeoJSON point column) or 'x', 'y' and 'projection'")
        if self.point is None and self.projection not in PROJECTIONS:
            raise ValueError(f"projection {self.projection!r} is not one of {sorted(PROJECTIONS)}")
        return self


class BoundsSchema(_Schema):
    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float

    @model_validator(mode="after")
    def _ordered(self):
        if not (self.min_latitude < self.max_latitude and self.min_longitude < self.max_longitude):
            raise ValueError("each min must be below its max")
        return self


class BooleansSchema(_Schema):
    true: TextList = DEFAULT_TRUE
    false: TextList = DEFAULT_FALSE


class ApiSchema(_Schema):
    url: Annotated[str, Field(min_length=1)]
    folder: Annotated[str, Field(min_length=1)]
    updated_field: Annotated[str, Field(min_length=1)]
    id_field: Annotated[str, Field(min_length=1)]
    page_size: Annotated[int, Field(ge=1)] = 1000
    app_token_env: str | None = None


def _inside(v: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in v:
        if pattern.startswith(("/", "~")) or ".." in Path(pattern).parts:
            raise ValueError(f"{pattern!r} leaves the landing folder: give a pattern relative to it, without '..'")
    return v


class LookupSchema(_Schema):
    files: Annotated[Names, AfterValidator(_inside)]
    key: Annotated[str, Field(min_length=1)]
    record_column: Annotated[str, Field(min_length=1)]
    columns: Annotated[dict[str, Annotated[str, Field(min_length=1)]], Field(min_length=1)]


def _formats(v):
    return v if isinstance(v, dict) else {"default": v}


class ProfileSchema(_Schema):
    """A source profile file, key by key (orchestration/source_profiles/README.md)."""

    name: Annotated[str, Field(pattern=_NAME.pattern)]
    source: str
    description: Text = ""
    files: Names
    columns: dict[str, Column] | None
    timezone: str = "UTC"
    csv: CsvSchema | None = None
    null_values: TextList | None = None
    missing_values: dict[str, TextList] | None = None
    grain: Literal["call", "unit"] = "call"
    timestamp_formats: Annotated[dict[str, Names], BeforeValidator(_formats)] | None = None
    values: dict[str, dict[Key, Text | None]] | None = None
    constants: dict[str, Text] | None = None
    booleans: BooleansSchema | None = None
    coordinates: CoordinatesSchema | None = None
    bounds: BoundsSchema | None = None
    accepted_values: dict[str, Annotated[TextList, Field(min_length=1)]] | None = None
    notes: dict[str, Text] | None = None
    api: ApiSchema | None = None
    lookups: dict[Annotated[str, Field(pattern=_NAME.pattern)], LookupSchema] | None = None
    city: Annotated[str, Field(pattern=_NAME.pattern)] | None = None
    city_name: Annotated[str, Field(min_length=1)] | None = None

    @field_validator("source")
    @classmethod
    def _canonical_source(cls, v: str) -> str:
        if v not in CANONICAL_SOURCES:
            raise ValueError(f"is not one of {sorted(CANONICAL_SOURCES)}")
        return v

    @field_validator("timezone")
    @classmethod
    def _iana(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not an IANA time zone name (e.g. America/Chicago)") from None
        return v

    @field_validator("files")
    @classmethod
    def _inside_landing_folder(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _inside(v)

    @field_validator("timestamp_formats")
    @classmethod
    def _strptime(cls, v):
        for formats in (v or {}).values():
            for fmt in formats:
                problem = None if fmt in EPOCH_FORMATS else strptime_problem(fmt)
                if problem:
                    raise ValueError(f"{fmt!r} is not a strptime format DuckDB reads: {problem}")
        return v

    @model_validator(mode="after")
    def _fits_the_source(self):
        source = self.source
        canonical = CANONICAL_SOURCES[source]
        columns, constants = self.columns or {}, self.constants or {}
        for key in list(columns) + list(constants):
            if key not in canonical.fields:
                raise ValueError(
                    f"'{key}' is not a canonical field of {source}; known fields: {', '.join(canonical.fields)}"
                )
        if self.coordinates is not None:
            if not all(f in canonical.fields for f in COORDINATE_FIELDS):
                raise ValueError(f"coordinates: {source} has no latitude/longitude")
            clash = [f for f in COORDINATE_FIELDS if f in columns or f in constants]
            if clash:
                raise ValueError(f"coordinates: {', '.join(clash)} also mapped under columns; keep one")
        missing_required = [f for f in canonical.required if f not in columns and f not in constants]
        if missing_required:
            raise ValueError(f"required canonical field(s) not mapped: {', '.join(missing_required)}")
        for fld in self.values or {}:
            if fld not in canonical.fields:
                raise ValueError(f"values.{fld}: not a canonical field of {source}")
            spec = columns.get(fld)
            if isinstance(spec, ColumnSpec) and spec.values is not None:
                raise ValueError(f"values.{fld}: the column mapping already has its own values; keep one")
        if self.city_name is not None and self.city is None:
            raise ValueError("city_name names the city given by 'city' (its id, lower_snake_case): give city too")
        for fld in self.notes or {}:
            if fld not in canonical.fields:
                raise ValueError(f"notes.{fld}: not a canonical field of {source}")
        for fld in self.accepted_values or {}:
            if fld not in columns and fld not in constants:
                raise ValueError(f"accepted_values.{fld}: not a field this profile fills")
        for fld in self.missing_values or {}:
            if fld not in columns:
                raise ValueError(f"missing_values.{fld}: not a field this profile reads from a column")
        self._lookups_fit(canonical)
        if self.grain == "unit" and "unit_id" not in canonical.fields:
            raise ValueError(f"grain: unit is for extracts of one row per responding unit; {source} has no units")
        return self

    def _lookups_fit(self, canonical: CanonicalSource) -> None:
        if self.lookups and self.source not in LOOKUP_FIELDS:
            joined = ", ".join(LOOKUP_FIELDS)
            raise ValueError(f"lookups: staging joins lookup files for {joined} only, not {self.source}")
        filled: dict[str, str] = {}
        for name, lookup in (self.lookups or {}).items():
            for fld in lookup.columns:
                if fld not in canonical.fields:
                    raise ValueError(f"lookups.{name}.columns: '{fld}' is not a canonical field of {self.source}")
                if fld not in LOOKUP_FIELDS[self.source]:
                    raise ValueError(
                        f"lookups.{name}.columns: '{fld}' must come from the record itself; a lookup fills "
                        f"{', '.join(LOOKUP_FIELDS[self.source])}"
                    )
                if fld in filled:
                    raise ValueError(f"lookups.{name}.columns: '{fld}' is already filled by lookup '{filled[fld]}'")
                filled[fld] = name


_strptime_con = threading.local()


def strptime_problem(fmt: str) -> str | None:
    """Why DuckDB's strptime (what landing uses) refuses the format, or None."""
    con = getattr(_strptime_con, "con", None)
    if con is None:
        con = _strptime_con.con = duckdb.connect()
    try:
        con.execute("SELECT try_strptime('', ?)", [fmt]).fetchone()
    except duckdb.Error as exc:
        return str(exc).split("Error: ", 1)[-1].strip().splitlines()[0]
    return None


def _describe_error(error: dict) -> str:
    """One pydantic error as 'key: what is wrong (got ...)'."""
    loc = ".".join(str(part) for part in error["loc"] if part not in _TAGS)
    kind, message, value = error["type"], error["msg"], error.get("input")
    if kind == "extra_forbidden":
        return f"unknown key '{loc}'"
    if kind == "missing":
        return f"missing key '{loc}'"
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
        if isinstance(value, str | int | float | bool):
            return f"{loc} {value!r}: {message}" if loc else message
        return f"{loc}: {message}" if loc else message
    message = re.sub(r"a valid dictionary( or instance of \w+)?", "a mapping (key: value)", message)
    message = message.replace("a valid tuple", "a list ([...]), not a single value")
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return f"{loc or '(the file)'}: {message[0].lower() + message[1:]}, got {shown}"


def _field_source(spec) -> FieldSource:
    if isinstance(spec, tuple):
        return FieldSource(candidates=spec)
    if spec.line_number:
        return FieldSource(line_number=True)
    return FieldSource(
        candidates=spec.column or (),
        join=spec.join or (),
        separator=spec.separator,
        values=dict(spec.values) if spec.values is not None else None,
        otherwise=KEEP if "otherwise" not in spec.model_fields_set else spec.otherwise,
        match=spec.match,
    )


def parse_profile(data: dict, path: Path | None = None) -> SourceProfile:
    """Check a profile's content against the schema and build it; every error names the file,
    the key and what was expected."""
    where = str(path) if path else "<profile>"
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: a profile is a mapping of keys to values, got {type(data).__name__}")
    try:
        schema = ProfileSchema.model_validate(data)
    except ValidationError as exc:
        errors = [_describe_error(e) for e in exc.errors(include_url=False)]
        if any(e.startswith("unknown key") for e in errors) and not any(
            e.startswith("unknown key '") and "." in e.split("'")[1] for e in errors
        ):
            errors.append("known keys: " + ", ".join(sorted(TOP_LEVEL_KEYS)))
        raise ProfileError(f"{where}: " + "; ".join(errors)) from None
    coords = schema.coordinates
    csv_cfg = schema.csv or CsvSchema()
    booleans = schema.booleans or BooleansSchema()
    bounds, api = schema.bounds, schema.api
    return SourceProfile(
        name=schema.name,
        source=schema.source,
        description=schema.description.strip(),
        files=schema.files,
        columns={k: _field_source(v) for k, v in (schema.columns or {}).items()},
        timezone=schema.timezone,
        csv=CsvFormat(delimiter=csv_cfg.delimiter, quote=csv_cfg.quote, encoding=csv_cfg.encoding),
        timestamp_formats=dict(schema.timestamp_formats or {}),
        values={k: dict(v) for k, v in (schema.values or {}).items()},
        constants=dict(schema.constants or {}),
        true_values=tuple(v.lower() for v in booleans.true),
        false_values=tuple(v.lower() for v in booleans.false),
        null_values=tuple(schema.null_values or ()),
        missing_values={k: tuple(v) for k, v in (schema.missing_values or {}).items()},
        grain=schema.grain,
        coordinates=None
        if coords is None
        else Coordinates(
            x=_field_source(coords.x) if coords.x is not None and coords.point is None else None,
            y=_field_source(coords.y) if coords.y is not None and coords.point is None else None,
            projection=coords.projection if coords.point is None else None,
            point=_field_source(coords.point) if coords.point is not None else None,
            missing=coords.missing,
        ),
        bounds=None if bounds is None else Bounds(**bounds.model_dump()),
        accepted_values={k: tuple(v) for k, v in (schema.accepted_values or {}).items()},
        notes={k: v.strip() for k, v in (schema.notes or {}).items()},
        api=None if api is None else ApiSource(**{**api.model_dump(), "folder": api.folder.strip("/")}),
        lookups={
            name: Lookup(name, lk.files, lk.key, lk.record_column, dict(lk.columns))
            for name, lk in (schema.lookups or {}).items()
        },
        city=schema.city,
        city_name=schema.city_name.strip() if schema.city_name else None,
        path=path,
    )


def load_profile(path: Path) -> SourceProfile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot be read as UTF-8 text: {exc}") from exc
    return parse_profile(data, path)


class Profiles(dict):
    """The profiles that loaded, by name, and ``errors``: (profile file, ProfileError) for each one
    that did not. A bad profile disables only itself."""

    def __init__(self, *args, errors: list[tuple[Path, ProfileError]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.errors: list[tuple[Path, ProfileError]] = list(errors or [])


def load_profiles(profiles_dir: Path) -> Profiles:
    """Every ``*.yaml`` profile in the folder, by name, and the files that could not be used (a
    second file with a name already taken is one of them)."""
    profiles = Profiles()
    for path in sorted(Path(profiles_dir).glob("*.yaml")):
        try:
            profile = load_profile(path)
        except ProfileError as exc:
            profiles.errors.append((path, exc))
            continue
        if profile.name in profiles:
            error = ProfileError(
                f"{path}: profile name {profile.name!r} is already used by {profiles[profile.name].path}"
            )
            profiles.errors.append((path, error))
            continue
        profiles[profile.name] = profile
    return profiles
