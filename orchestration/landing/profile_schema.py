"""The schema a source profile's YAML is checked against (pydantic), and how its errors are worded:
every error names the key, what was expected and what was given."""

from __future__ import annotations

import codecs
import re
import threading
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from orchestration.landing.canonical import CANONICAL_SOURCES, CanonicalSource
from orchestration.landing.profile_model import (
    COORDINATE_FIELDS,
    DEFAULT_FALSE,
    DEFAULT_TRUE,
    EPOCH_FORMATS,
    LOOKUP_FIELDS,
    NAME_PATTERN,
)
from orchestration.landing.projection import PROJECTIONS


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

    name: Annotated[str, Field(pattern=NAME_PATTERN.pattern)]
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
    lookups: dict[Annotated[str, Field(pattern=NAME_PATTERN.pattern)], LookupSchema] | None = None
    city: Annotated[str, Field(pattern=NAME_PATTERN.pattern)] | None = None
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


def describe_error(error: dict) -> str:
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
