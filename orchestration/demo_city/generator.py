"""The demo city: a deterministic synthetic city whose extracts land like a real city's.

``generate(out_dir, scale, seed)`` writes one folder of CSV extracts (the way a city's
export would arrive: its own column names, local times, monthly files for the big
sources) and ``truth.json``, the machine-readable record of what was planted:

- a known call mix: the shares of non-criminal, alternative-eligible and officer-initiated
  calls follow from ``catalogue.CALL_TYPES``;
- a divergence area (beat ``3C``): stops run at five times its share of crime, and most of
  them end with at most a warning and find no contraband;
- a violent-crime hot spot (beat ``2B``): four times the violent-crime rate, with 30 % of
  its violent incidents on one block.

Scale 1.0 is 60,000 calls, 12,000 incidents, 8,000 stops and 20,000 311 requests in one
year. Each month is generated and written on its own, so memory stays bounded at any scale.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.demo_city import catalogue as cat
from orchestration.demo_city.boundaries import BEATS_FILE, TRACTS_FILE, write_beat_boundaries, write_tracts
from orchestration.demo_city.layout import (
    BASE_ROWS,
    BBOX,
    DIVERGENCE_BEAT,
    DIVERGENCE_STOP_MULTIPLIER,
    HOT_SPOT_BEAT,
    HOT_SPOT_BLOCK,
    HOT_SPOT_BLOCK_SHARE,
    HOT_SPOT_VIOLENT_MULTIPLIER,
    INCIDENT_WITHOUT_BEAT_EVERY,
    STOP_OUTCOME_P,
    STOP_OUTCOMES,
    SURVEY_WAVES,
    TIMEZONE,
    YEAR,
    area_weights,
    build_areas,
)
from orchestration.demo_city.plants import ProgramEffect, ResponseDrift, StopDisparities
from orchestration.demo_city.sources import (
    CANCELLED_SHARE,
    DISPOSITION_SHARES,
    build_budget,
    build_calls,
    build_incidents,
    build_service_requests,
    build_stops,
    build_survey,
    write_csv,
)


def _month_counts(total: int) -> list[tuple[int, int]]:
    """(month, rows) with rows in proportion to the month's days, adding up to ``total``."""
    days = np.array([pd.Period(f"{YEAR}-{m:02d}").days_in_month for m in range(1, 13)])
    counts = np.floor(total * days / days.sum()).astype(int)
    counts[: total - counts.sum()] += 1
    return list(zip(range(1, 13), counts.tolist(), strict=True))


def planted_call_shares() -> dict[str, float]:
    """The call mix's planted shares, straight from the catalogue's weights."""
    total = sum(t.weight for t in cat.CALL_TYPES)
    by_category: dict[str, float] = {}
    for t in cat.CALL_TYPES:
        by_category[t.category] = by_category.get(t.category, 0) + t.weight / total
    return {
        "non_criminal": sum(t.weight for t in cat.CALL_TYPES if not t.criminal) / total,
        "alternative_eligible": sum(t.weight for t in cat.CALL_TYPES if t.alternative != "none") / total,
        "officer_initiated": sum(t.weight for t in cat.CALL_TYPES if t.officer_initiated) / total,
        "by_category": {k: round(v, 6) for k, v in sorted(by_category.items())},
    }


def planted_alternative_calls() -> dict[str, dict[str, float]]:
    """Per alternative responder: the share of all calls it could take, and of those the share
    outside priority 1 and outside priorities 1-2 (a scenario keeps those with police), and the
    chance a call from the public ends in an arrest (a scenario keeps those too)."""
    total = sum(t.weight for t in cat.CALL_TYPES)
    planted: dict[str, dict[str, float]] = {}
    for t in cat.CALL_TYPES:
        if t.alternative == "none" or t.officer_initiated:
            continue
        entry = planted.setdefault(t.alternative, {"share": 0.0, "share_not_p1": 0.0, "share_not_p1_p2": 0.0})
        entry["share"] += t.weight / total
        entry["share_not_p1"] += t.weight / total * (1 - t.priorities[0])
        entry["share_not_p1_p2"] += t.weight / total * (1 - t.priorities[0] - t.priorities[1])
    arrest = (1 - CANCELLED_SHARE) * DISPOSITION_SHARES["ARREST"]
    return {r: {**{k: round(v, 6) for k, v in e.items()}, "arrest_share": arrest} for r, e in sorted(planted.items())}


def generate(
    out_dir: Path,
    scale: float = 1.0,
    seed: int = 20250101,
    progress=print,
    drift: ResponseDrift | None = None,
    program: ProgramEffect | None = None,
    disparities: StopDisparities | None = None,
) -> dict:
    """Write the demo city's extracts and truth.json into ``out_dir``; returns the truth."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    areas = build_areas(seed)
    weights = area_weights(areas)
    files: dict[str, dict[str, int]] = {}
    without_beat: dict[str, int] = {}  # records written without their beat, by the beat their point is in

    def record(source: str, path: Path, rows: int) -> None:
        files.setdefault(source, {})[path.name] = rows

    record(
        "areas",
        out_dir / "areas.csv",
        write_csv(areas.drop(columns=["risk"]), out_dir / "areas.csv", {}),
    )
    # the beats' polygons (landed by their own profile, source_profiles/boundaries/, not a batch of raw.batches)
    boundaries = write_beat_boundaries(areas, out_dir / BEATS_FILE)
    tracts = write_tracts(areas, out_dir / TRACTS_FILE)
    builders = {
        "calls_for_service": (
            build_calls,
            {
                c: "%Y-%m-%dT%H:%M:%S"
                for c in (
                    "time_received",
                    "time_dispatched",
                    "time_enroute",
                    "time_arrived",
                    "time_cleared",
                )
            },
        ),
        "incidents": (
            build_incidents,
            {"reported_date": "%m/%d/%Y %I:%M:%S %p", "occurred_date": "%m/%d/%Y %I:%M:%S %p"},
        ),
        "stops": (build_stops, {"stop_datetime": "%Y-%m-%d %H:%M:%S"}),
        "service_requests": (
            build_service_requests,
            {"created_date": "%Y-%m-%d %H:%M:%S", "closed_date": "%Y-%m-%d %H:%M:%S"},
        ),
    }
    for source, (builder, time_columns) in builders.items():
        total = max(12, int(round(BASE_ROWS[source] * scale)))
        progress(f"demo city: writing {total:,} {source.replace('_', ' ')} ...")
        for month, n in _month_counts(total):
            path = out_dir / source / f"{source}_{YEAR}-{month:02d}.csv"
            extra = {"drift": drift, "program": program} if builder is build_calls else {}
            extra = {"disparities": disparities} if builder is build_stops else extra
            frame, expressions = builder(seed, areas, weights, month, n, **extra)
            if "_beat" in frame:
                for beat, count in frame.loc[frame["beat"].isna(), "_beat"].value_counts().items():
                    if count:
                        without_beat[str(beat)] = without_beat.get(str(beat), 0) + int(count)
            record(source, path, write_csv(frame, path, time_columns, expressions))
    record("budget", out_dir / "budget.csv", write_csv(build_budget(seed), out_dir / "budget.csv", {}))
    survey = build_survey(seed, areas, weights, scale)
    record(
        "survey_responses",
        out_dir / "survey_responses.csv",
        write_csv(survey, out_dir / "survey_responses.csv", {}),
    )

    truth = {
        "seed": seed,
        "scale": scale,
        "year": YEAR,
        "timezone": TIMEZONE,
        "bounding_box": BBOX,
        "files": files,
        "rows": {source: sum(f.values()) for source, f in files.items()},
        "planted": {
            "call_shares": planted_call_shares(),
            "alternative_calls": planted_alternative_calls(),
            "response_drift": asdict(drift) if drift is not None else None,
            "program_effect": asdict(program) if program is not None else None,
            "stop_disparities": asdict(disparities) if disparities is not None else None,
            "call_types": [asdict(t) for t in cat.CALL_TYPES],
            "divergence_area": {
                "beat": DIVERGENCE_BEAT,
                "stop_share_over_crime_share": DIVERGENCE_STOP_MULTIPLIER,
                "outcome_probabilities": dict(zip(STOP_OUTCOMES, STOP_OUTCOME_P["divergence"], strict=True)),
                "periods": [f"{YEAR}-{m:02d}" for m in range(1, 13)],
            },
            "normal_stop_outcome_probabilities": dict(zip(STOP_OUTCOMES, STOP_OUTCOME_P["normal"], strict=True)),
            "violent_hot_spot": {
                "beat": HOT_SPOT_BEAT,
                "block": HOT_SPOT_BLOCK,
                "violent_rate_multiplier": HOT_SPOT_VIOLENT_MULTIPLIER,
                "block_share_of_beat_violence": HOT_SPOT_BLOCK_SHARE,
            },
            "survey_trust_police_mean": {w: m for w, _s, _e, m in SURVEY_WAVES},
            "boundaries": {"file": BEATS_FILE, "level": "beat", "areas": boundaries},
            "incidents_without_beat": {
                "every": INCIDENT_WITHOUT_BEAT_EVERY,
                "rows": sum(without_beat.values()),
                "by_beat": dict(sorted(without_beat.items())),
            },
            "tracts": {"file": TRACTS_FILE, "population": tracts},
            "beats": {
                r.beat: {
                    "population": r.population,
                    "crime_share": round(float(c), 6),
                    "stop_share": round(float(s), 6),
                }
                for r, c, s in zip(areas.itertuples(), weights["crime"], weights["stops"], strict=True)
            },
        },
    }
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=2))
    # the answer key is not an extract: landing's report of files no profile reads leaves it out
    (out_dir / ".landingignore").write_text(
        "# the demo city's record of what it planted (not an extract)\ntruth.json\n"
    )
    progress(
        f"demo city: {sum(truth['rows'].values()):,} rows in {sum(len(f) for f in files.values())} files "
        f"under {out_dir}"
    )
    return truth


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the demo city's extracts and truth file.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=20250101)
    args = parser.parse_args(argv)
    generate(args.out_dir, args.scale, args.seed)


if __name__ == "__main__":
    main()
