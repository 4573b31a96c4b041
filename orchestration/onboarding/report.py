"""What onboarding found in a sample: a column matched to a field (``Match``) and the whole
finding (``Report``), which the draft and the screen are written from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.onboarding.shipped import ShippedMatch


@dataclass
class Match:
    field: str
    kind: str
    column: str
    score: float
    why: str
    formats: list[str] = field(default_factory=list)
    note: str = ""
    shipped_profile: str | None = None  # the shipped profile that reads this column for the field


@dataclass
class LookupFinding:
    """A second file (``--lookup``): the records' column that holds its keys, and what it fills."""

    name: str
    path: Path
    header: list[str]
    rows: int
    key: str | None = None
    record_column: str | None = None
    records_with_key: int = 0
    records_joined: int = 0
    columns: dict[str, Match] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)
    bounds: dict[str, float] | None = None
    problem: str = ""  # why it cannot be used as a lookup (no key found, nothing to fill)


@dataclass
class Report:
    path: Path
    source: str
    profile_name: str
    encoding: str
    delimiter: str
    quote: str
    line_endings: str
    header: list[str]
    rows_sampled: int
    matched: dict[str, Match]
    missing: list[str]
    rejected: dict[str, str]  # field -> why the name match was dropped
    unused_columns: list[str]
    null_values: list[str]
    bounds: dict[str, float] | None = None
    new_call_types: list[tuple[str, int, str]] = field(default_factory=list)  # type, count, description
    draft_path: Path | None = None
    taxonomy_path: Path | None = None
    dry_run: str = ""
    # one row per responding unit: the sample's call ids repeat (rows, distinct ids)
    grain: str = "call"
    id_repeats: tuple[int, int] | None = None
    # a mixed feed: the call types start with a discipline ("EMS: ...", "Fire: ..."): (prefix, rows)
    agency_prefixes: list[tuple[str, int]] = field(default_factory=list)
    # the values of a column matched as the agency (DPD, DFD, EMS): (value, rows)
    agency_values: list[tuple[str, int]] = field(default_factory=list)
    # per coded field (priority): the sample's codes with their rows, proposed as accepted_values,
    # or None where the sample holds more codes than a code list has (not proposed)
    codes: dict[str, list[tuple[str, int]] | None] = field(default_factory=dict)
    # a shipped profile that already reads this file, and its dry run
    shipped: ShippedMatch | None = None
    shipped_dry_run: str = ""
    lookups: list[LookupFinding] = field(default_factory=list)
    # a column of points ("(lat, lon)", WKT, GeoJSON): the coordinates, found by content
    point_column: str | None = None
    # field -> draft lines carried from the shipped profiles the matches cite (their mappings, rules)
    carried: dict[str, list[str]] = field(default_factory=dict)
    carried_formats: dict[str, tuple[str, ...]] = field(default_factory=dict)  # their timestamp formats
    cited_timezone: tuple[str, str] | None = None  # (time zone, profile) of the profile most matches cite
    carried_constants: dict[str, str] = field(default_factory=dict)  # and its constants

    @property
    def taxonomy_profile(self) -> str:
        """The profile whose call types the taxonomy is checked against: the shipped one that reads
        the file, else the new one."""
        return self.shipped.name if self.shipped else self.profile_name

    @property
    def fields(self) -> list[str]:
        """The canonical fields this extract is matched against: a unit only in a unit-row file,
        where landing counts one unit per row unless a units column is matched."""
        return [f for f in CANONICAL_SOURCES[self.source].fields if f in self.matched or f in self.missing]
