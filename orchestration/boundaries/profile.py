"""Boundary profiles: one YAML file per boundary file format, in ``source_profiles/boundaries/``.

They sit in their own folder because they describe polygons, not rows of a canonical source;
the keys are explained in orchestration/source_profiles/README.md ("Area boundaries").
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

BOUNDARY_PROFILES_DIR = "boundaries"
LEVELS = ("beat", "district", "neighbourhood", "tract", "block_group")


class BoundaryProfile(BaseModel):
    """Which file holds a city's areas, which GeoJSON properties name them, and their coordinate system."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    city: str
    level: str
    description: str = ""
    files: str
    id_property: str
    name_property: str | None = None
    crs: str = "EPSG:4326"
    # census files only (tract or block_group): the property holding the residents (census denominators),
    # and the one holding the estimate's margin of error at 90 % confidence (an ACS table's margin
    # column; a decennial count has none)
    population_property: str | None = None
    margin_property: str | None = None

    @field_validator("level")
    @classmethod
    def _known_level(cls, v: str) -> str:
        if v not in LEVELS:
            raise ValueError(f"is not one of {', '.join(LEVELS)}")
        return v

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, v: str) -> str:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(v)
        except CRSError:
            raise ValueError(f"{v!r} is not a coordinate system PROJ knows (e.g. EPSG:4326, EPSG:3435)") from None
        return v

    @field_validator("files")
    @classmethod
    def _inside_landing_folder(cls, v: str) -> str:
        if v.startswith("/") or ".." in Path(v).parts:
            raise ValueError(f"{v!r} leaves the landing folder: give a pattern relative to it, without '..'")
        return v

    @model_validator(mode="after")
    def _margin_needs_population(self) -> BoundaryProfile:
        if self.margin_property and not self.population_property:
            raise ValueError("margin_property is the margin of the population: give population_property too")
        return self

    def matching_files(self, landing_dir: Path) -> list[Path]:
        return sorted(p for p in Path(landing_dir).glob(self.files) if p.is_file() and not p.is_symlink())


class BoundaryProfileError(ValueError):
    pass


def load_boundary_profiles(profiles_dir: Path) -> tuple[dict[str, BoundaryProfile], list[str]]:
    """Every boundary profile, by name, and a message for each file that could not be used."""
    found: dict[str, BoundaryProfile] = {}
    errors: list[str] = []
    for path in sorted((Path(profiles_dir) / BOUNDARY_PROFILES_DIR).glob("*.yaml")):
        try:
            profile = BoundaryProfile(**yaml.safe_load(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, TypeError, ValidationError) as exc:
            errors.append(f"{path.name}: {exc}")
            continue
        if profile.name in found:
            errors.append(f"{path.name}: profile name {profile.name!r} is already used")
            continue
        found[profile.name] = profile
    return found, errors


def boundary_files(landing_dir: Path, profiles_dir: Path) -> list[Path]:
    """The files in the landing folder that a boundary profile reads (so they are not 'unmatched')."""
    profiles, _ = load_boundary_profiles(profiles_dir)
    return [f for p in profiles.values() for f in p.matching_files(landing_dir)]
