"""Source profiles: one declarative YAML file per extract format (a city's export of one source).

A profile says which files it reads, how they are written (delimiter, quote, encoding),
which source column feeds each canonical field, how timestamps are written and in which
time zone, and how code values map onto the canonical vocabulary. See
``orchestration/source_profiles/README.md`` for the format, field by field.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from orchestration.landing.profile_model import (  # noqa: F401  (the profile's parts, importable from here)
    COORDINATE_FIELDS,
    DEFAULT_FALSE,
    DEFAULT_TRUE,
    EPOCH_FORMATS,
    KEEP,
    LOOKUP_FIELDS,
    TOP_LEVEL_KEYS,
    UNIT_GRAIN_FIELDS,
    ApiSource,
    Bounds,
    Coordinates,
    CsvFormat,
    FieldSource,
    Lookup,
    ProfileError,
    SourceProfile,
    header_column,
    spelling,
)
from orchestration.landing.profile_schema import BooleansSchema, CsvSchema, ProfileSchema, describe_error


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
        errors = [describe_error(e) for e in exc.errors(include_url=False)]
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
