"""Did it work (issue: from "what happened" to "what if"): a program planted by the generator
(40 % of district 2's mental health and welfare calls no longer reach the police from July) is
recovered by the difference-in-differences within its interval, with the repeat calls it takes
away and no change where none was planted (response times, trust); without the plant, no change is
found on any outcome; a program with one month after its start is too weak to judge, and says so."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.demo_city.generator import ProgramEffect, generate

from .conftest import make_settings, run_pipeline

OUTCOMES = (
    "calls_reaching_police",
    "officer_hours",
    "repeat_calls_within_30_days",
    "median_response_minutes",
    "trust_police",
)
PLANT = ProgramEffect(district="2", category="mental_health_welfare", from_month=7, kept_share=0.6)


def evaluation(con, program: str) -> dict[str, dict]:
    rows = con.execute("SELECT * FROM marts.mart_program_evaluation WHERE program = ? ORDER BY outcome", [program]).df()
    return {r["outcome"]: r for r in rows.to_dict("records")}


@pytest.fixture(scope="module")
def planted_city(tmp_path_factory):
    root = tmp_path_factory.mktemp("program_city")
    settings = make_settings(root)
    generate(settings.demo_dir, settings.demo_scale, settings.demo_seed, progress=lambda _m: None, program=PLANT)
    assert run_pipeline(settings).success
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    yield con
    con.close()


def test_without_a_plant_the_evaluation_finds_no_change(demo_warehouse):
    found = evaluation(demo_warehouse, "demo_crisis_pilot")
    assert set(found) == set(OUTCOMES)
    for outcome, row in found.items():
        assert row["estimate_low"] < 0 < row["estimate_high"], outcome
        assert row["verdict"] == "no change the data can tell from the comparison districts"
        assert not row["pre_trends_differ"]


def test_a_planted_program_is_recovered_within_its_interval(planted_city):
    found = evaluation(planted_city, "demo_crisis_pilot")
    calls = found["calls_reaching_police"]
    assert calls["effect_ratio_low"] <= PLANT.kept_share <= calls["effect_ratio_high"]
    assert calls["effect_ratio_high"] < 1 and calls["verdict"] == "fell relative to the comparison districts"
    # the dropped calls take their officer hours with them
    hours = found["officer_hours"]
    assert hours["effect_ratio_low"] <= PLANT.kept_share <= hours["effect_ratio_high"]
    assert (calls["months_pre"], calls["months_post"]) == (6, 6)
    # dropping 40 % of the calls at random leaves at most 60 % of the repeats (fewer calls at an
    # address also make a repeat less likely), so the interval reaches down to the kept share
    repeats = found["repeat_calls_within_30_days"]
    assert repeats["verdict"] == "fell relative to the comparison districts"
    assert repeats["effect_ratio_low"] <= PLANT.kept_share and repeats["effect_ratio_high"] < 1
    # nothing was planted on response times or trust
    for outcome in ("median_response_minutes", "trust_police"):
        assert found[outcome]["verdict"] == "no change the data can tell from the comparison districts", outcome


def test_repeat_calls_are_counted_by_hand(planted_city):
    """A call is a repeat when a call of the program's categories came from the same block address
    within the 30 days before it; counted here from the calls, in Python."""
    import collections
    import datetime as dt

    calls = planted_city.execute(
        """
        SELECT block_address, received_at_utc, district, call_month
        FROM marts.fct_calls_for_service
        WHERE source_profile = 'demo_city_calls' AND NOT is_officer_initiated
          AND service_category = 'mental_health_welfare' AND district IS NOT NULL AND block_address IS NOT NULL
        ORDER BY block_address, received_at_utc
        """
    ).fetchall()
    counts: collections.Counter = collections.Counter()
    for previous, call in zip([None, *calls[:-1]], calls, strict=True):
        if previous and previous[0] == call[0] and call[1] - previous[1] <= dt.timedelta(days=30):
            counts[("treated" if call[2] == "2" else "comparison", call[3].month >= 7)] += 1
    row = evaluation(planted_city, "demo_crisis_pilot")["repeat_calls_within_30_days"]
    assert (row["treated_count_pre"], row["treated_count_post"]) == (counts["treated", False], counts["treated", True])
    assert (row["comparison_count_pre"], row["comparison_count_post"]) == (
        counts["comparison", False],
        counts["comparison", True],
    )


def test_trust_change_is_the_difference_in_differences_of_the_weighted_means(planted_city):
    """From the survey's rows: the weighted mean of trust_police per arm and wave (March before the
    July start, October after), and the treated change minus the comparison change."""
    answers = planted_city.execute(
        """
        SELECT s.wave, a.district = '2' AS treated, s.trust_police AS trust, s.weight
        FROM staging.stg_survey_responses AS s
        JOIN staging.stg_areas AS a ON s.beat = a.beat
        WHERE s.trust_police IS NOT NULL
        """
    ).df()
    means = {
        (wave, treated): (g["trust"] * g["weight"]).sum() / g["weight"].sum()
        for (wave, treated), g in answers.groupby(["wave", "treated"])
    }
    expected = (means["2025-W2", True] - means["2025-W1", True]) - (means["2025-W2", False] - means["2025-W1", False])
    row = evaluation(planted_city, "demo_crisis_pilot")["trust_police"]
    assert row["estimate"] == pytest.approx(expected, abs=1e-12)
    assert row["effect_scale"] == "points on the 1-5 scale"
    assert row["treated_count_pre"] == int(((answers["wave"] == "2025-W1") & answers["treated"]).sum())
    # four cells of a few hundred answers each: an interval of a few tenths of a point
    assert 0.05 < row["estimate_high"] - row["estimate_low"] < 1.0


def test_the_estimate_is_the_difference_of_the_monthly_log_ratios_counted_by_hand(planted_city):
    import math

    monthly = planted_city.execute(
        """
        SELECT call_month, count(*) FILTER (WHERE district = '2'), count(*) FILTER (WHERE district <> '2')
        FROM marts.fct_calls_for_service
        WHERE source_profile = 'demo_city_calls' AND NOT is_officer_initiated
          AND service_category = 'mental_health_welfare' AND district IS NOT NULL
        GROUP BY 1 ORDER BY 1
        """
    ).fetchall()
    pre = [math.log(t / c) for m, t, c in monthly if m.month < 7]
    post = [math.log(t / c) for m, t, c in monthly if m.month >= 7]
    calls = evaluation(planted_city, "demo_crisis_pilot")["calls_reaching_police"]
    assert calls["estimate"] == pytest.approx(sum(post) / len(post) - sum(pre) / len(pre), abs=1e-12)


def test_one_month_after_the_start_is_too_weak_to_judge(demo_warehouse):
    for row in evaluation(demo_warehouse, "demo_late_start").values():
        assert row["months_post"] == 1
        assert row["verdict"].startswith("too weak to conclude: too few months or counts")


def test_the_report_gives_each_programs_verdict(demo_report_html):
    html = demo_report_html
    section = html[html.index('id="did-it-work"') :].split("</section>")[0]
    pilot = section[section.index("demo crisis pilot") :].split("<h3>")[0]
    assert "no change the data can tell from the comparison districts" in pilot
    late = section[section.index("demo late start") :].split("<h3>")[0]
    assert "too weak to conclude: too few months or counts" in late
