"""What the shipped profiles already know: a profile that reads the file as it is, the column
names they read for each field, the timestamp formats they use."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from orchestration.landing.profiles import (
    Profiles,
    load_profiles,
)
from orchestration.onboarding.vocabulary import COMMON_FORMATS, normalise
from orchestration.settings import PROJECT_ROOT

SHIPPED_PROFILES = PROJECT_ROOT / "orchestration" / "source_profiles"
# a shipped profile "reads" a file whose header has every required column and this share of the rest
SHIPPED_MATCH = 0.8


@functools.cache
def shipped_profiles() -> Profiles:
    """The shipped profiles, read once per process (every matching step consults them)."""
    return load_profiles(SHIPPED_PROFILES)


@dataclass(frozen=True)
class ShippedMatch:
    name: str
    path: Path
    files: tuple[str, ...]
    found: int
    mapped: int


def shipped_profile_for(source: str, header: list[str]) -> ShippedMatch | None:
    """The shipped profile that already reads a file with this header (its aliases included):
    every required field's column found and most of the others; the best such, or None."""
    columns = set(header)
    best = None
    for profile in shipped_profiles().values():
        if profile.source != source:
            continue
        resolved = {fld: spec.resolve(columns) for fld, spec in profile.columns.items()}
        if any(resolved.get(f) is None for f in profile.canonical.required if f in profile.columns):
            continue
        found = sum(r is not None for r in resolved.values())
        if found >= SHIPPED_MATCH * len(resolved) and (
            best is None or found / len(resolved) > best.found / best.mapped
        ):
            best = ShippedMatch(profile.name, profile.path, profile.files, found, len(resolved))
    return best


def known_aliases(source: str) -> dict[str, dict[str, str]]:
    """canonical field -> {normalised column name: profile that reads it} over the shipped profiles."""
    aliases: dict[str, dict[str, str]] = {}
    for profile in shipped_profiles().values():
        if profile.source != source:
            continue
        for fld, spec in profile.columns.items():
            for column in spec.source_columns:
                aliases.setdefault(fld, {}).setdefault(normalise(column), profile.name)
    return aliases


def known_formats() -> list[str]:
    """The common formats, each also with an offset after it (+00, +05:30: %z), then the shipped
    profiles' own."""
    formats = list(COMMON_FORMATS)
    formats += [f + "%z" for f in COMMON_FORMATS if "%H" in f and "%z" not in f and f + "%z" not in formats]
    for profile in shipped_profiles().values():
        for fmts in profile.timestamp_formats.values():
            formats += [f for f in fmts if f not in formats]
    return formats
