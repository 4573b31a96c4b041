"""Source profiles: one declarative YAML file per extract format (a city's export of one source).

A profile says which files it reads, how they are written (delimiter, quote, encoding),
which source column feeds each canonical field, how timestamps are written and in which
time zone, and how code values map onto the canonical vocabulary. See
``orchestration/source_profiles/README.md`` for the format, field by field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from orchestration.landing.canonical import CANONICAL_SOURCES, CanonicalSource

DEFAULT_TRUE = ("true", "t", "yes", "y", "1")
DEFAULT_FALSE = ("false", "f", "no", "n", "0")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ProfileError(ValueError):
    """A profile file that cannot be used, with the file and the key at fault."""


@dataclass(frozen=True)
class CsvFormat:
    delimiter: str = ","
    quote: str = '"'
    encoding: str = "utf-8"


@dataclass(frozen=True)
class SourceProfile:
    name: str
    source: str
    description: str
    files: tuple[str, ...]
    columns: dict[str, str]
    timezone: str = "UTC"
    csv: CsvFormat = field(default_factory=CsvFormat)
    timestamp_formats: dict[str, tuple[str, ...]] = field(default_factory=dict)
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    true_values: tuple[str, ...] = DEFAULT_TRUE
    false_values: tuple[str, ...] = DEFAULT_FALSE
    path: Path | None = None

    @property
    def canonical(self) -> CanonicalSource:
        return CANONICAL_SOURCES[self.source]

    @property
    def lacks(self) -> list[str]:
        """Canonical fields this city's extract does not provide (they land as NULL)."""
        have = set(self.columns) | set(self.constants)
        return [f for f in self.canonical.fields if f not in have]

    def formats_for(self, canonical_field: str) -> tuple[str, ...]:
        return self.timestamp_formats.get(canonical_field) or self.timestamp_formats.get(
            "default", ("%Y-%m-%d %H:%M:%S",)
        )

    def matching_files(self, landing_dir: Path) -> list[Path]:
        found: set[Path] = set()
        for pattern in self.files:
            found.update(p for p in landing_dir.glob(pattern) if p.is_file())
        return sorted(found)


def _as_tuple(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ProfileError(f"{where}: expected a string or a list of strings, got {value!r}")


def parse_profile(data: dict, path: Path | None = None) -> SourceProfile:
    """Check a profile's content and build it; every error names the file and the key."""
    where = str(path) if path else "<profile>"
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: a profile is a mapping of keys to values")
    for key in ("name", "source", "files", "columns"):
        if key not in data:
            raise ProfileError(f"{where}: missing key '{key}'")
    name, source = data["name"], data["source"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise ProfileError(f"{where}: name {name!r} must be lower_snake_case")
    if source not in CANONICAL_SOURCES:
        raise ProfileError(f"{where}: source {source!r} is not one of {sorted(CANONICAL_SOURCES)}")
    canonical = CANONICAL_SOURCES[source]
    columns = data["columns"] or {}
    constants = {k: str(v) for k, v in (data.get("constants") or {}).items()}
    for key in list(columns) + list(constants):
        if key not in canonical.fields:
            raise ProfileError(
                f"{where}: '{key}' is not a canonical field of {source}; known fields: {', '.join(canonical.fields)}"
            )
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
        values[fld] = {str(k): (None if v is None else str(v)) for k, v in mapping.items()}
    csv_cfg = data.get("csv") or {}
    booleans = data.get("booleans") or {}
    return SourceProfile(
        name=name,
        source=source,
        description=str(data.get("description", "")).strip(),
        files=_as_tuple(data["files"], f"{where}: files"),
        columns={k: str(v) for k, v in columns.items()},
        timezone=tz,
        csv=CsvFormat(
            delimiter=csv_cfg.get("delimiter", ","),
            quote=csv_cfg.get("quote", '"'),
            encoding=csv_cfg.get("encoding", "utf-8"),
        ),
        timestamp_formats=formats,
        values=values,
        constants=constants,
        true_values=tuple(v.lower() for v in booleans.get("true", DEFAULT_TRUE)),
        false_values=tuple(v.lower() for v in booleans.get("false", DEFAULT_FALSE)),
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
