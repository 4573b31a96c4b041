"""marts.mart_demand_forecast: next quarter's calls from the public per city x service category x
week, with 95 % prediction intervals and each series' backtest (orchestration/forecast/model.py).
A Python asset (statsmodels) after the dbt build, written into the marts schema, so it is
published with the other marts."""

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.forecast.model import BACKTEST_WEEKS, MIN_WEEKS, forecast_daily
from orchestration.python_marts import PythonMart
from orchestration.resources import WarehouseResource

CALLS_KEY = AssetKey(["marts", "fct_calls_for_service"])

TABLE_DOC = (
    "Next quarter's calls from the public per city x service category x week: ETS with a weekly season "
    "on the daily counts of complete weeks, 95 % prediction intervals from simulated paths, and each series' "
    "backtest on its last weeks against the seasonal-naive forecast. Grain: city x service category x week."
)
COLUMN_DOCS = {
    "week_start": "Monday of the forecast week (local time).",
    "forecast_calls": "Forecast calls from the public in the week.",
    "forecast_low": "Lower end of the 95 % prediction interval of the week's calls.",
    "forecast_high": "Upper end of the 95 % prediction interval of the week's calls.",
    "history_weeks": "Complete weeks of calls the model was fitted on.",
    "backtest_mae": "Mean absolute error of the weekly totals over the backtest weeks.",
    "seasonal_naive_mae": "The same for the seasonal-naive forecast (each day as on the same weekday a week before).",
    "beats_seasonal_naive": "True when the model's backtest error is below the seasonal-naive one.",
    "note": "Why a series has no forecast (too short, or the model could not be fitted).",
}

COLUMNS = (
    ("city", "VARCHAR"),
    ("service_category", "VARCHAR"),
    ("week_start", "DATE"),
    ("forecast_calls", "DOUBLE"),
    ("forecast_low", "DOUBLE"),
    ("forecast_high", "DOUBLE"),
    ("history_weeks", "INTEGER"),
    ("backtest_weeks", "INTEGER"),
    ("backtest_mae", "DOUBLE"),
    ("seasonal_naive_mae", "DOUBLE"),
    ("beats_seasonal_naive", "BOOLEAN"),
    ("method", "VARCHAR"),
    ("note", "VARCHAR"),
)

FORECAST = PythonMart("mart_demand_forecast", COLUMNS, TABLE_DOC, COLUMN_DOCS, module=__name__)
FORECAST_KEY = FORECAST.key

DAILY_SQL = """
SELECT coalesce(c.city, f.source_profile) AS city, f.service_category,
       cast(f.received_at_local AS DATE) AS day, count(*) AS calls
FROM marts.fct_calls_for_service AS f
LEFT JOIN reference.city_source_profiles AS c ON f.source_profile = c.source_profile
WHERE NOT f.is_officer_initiated
GROUP BY ALL
ORDER BY ALL
"""


def complete_days(days: pd.Series) -> pd.DatetimeIndex:
    """Every day from the first Monday to the last Sunday the city's calls cover whole."""
    first, last = pd.Timestamp(days.min()), pd.Timestamp(days.max())
    first += pd.Timedelta(days=(7 - first.weekday()) % 7)
    last -= pd.Timedelta(days=(last.weekday() + 1) % 7)
    return pd.date_range(first, last, freq="D")


def series_of(daily: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    """What the model is given: each city x service category's daily counts over the days its city's
    calls cover whole (a day without a call is 0). A day of a week not yet complete is in none."""
    series = {}
    for city, by_city in daily.groupby("city", sort=True):
        days = complete_days(by_city["day"])
        for category, rows in by_city.groupby("service_category", sort=True):
            series[(city, category)] = rows.set_index(pd.to_datetime(rows["day"]))["calls"].reindex(days, fill_value=0)
    return series


def forecast_frame(series: dict[tuple[str, str], pd.Series]) -> pd.DataFrame:
    rows = []
    for (city, category), counts in series.items():
        base = {"city": city, "service_category": category, "history_weeks": len(counts) // 7}
        try:
            result = forecast_daily(counts)
        except Exception as exc:  # noqa: BLE001 (one series that cannot be fitted stops no other)
            rows.append({**base, "note": f"not available: the model could not be fitted ({exc})"[:300]})
            continue
        if result is None:
            rows.append({**base, "note": f"not available: fewer than {MIN_WEEKS} complete weeks of calls"})
            continue
        for week in result.weeks.itertuples():
            rows.append(
                {
                    **base,
                    "week_start": week.week_start.date(),
                    "forecast_calls": week.forecast,
                    "forecast_low": week.low,
                    "forecast_high": week.high,
                    "backtest_weeks": BACKTEST_WEEKS,
                    "backtest_mae": result.backtest_mae,
                    "seasonal_naive_mae": result.naive_mae,
                    "beats_seasonal_naive": result.backtest_mae < result.naive_mae,
                    "method": result.method,
                    "note": None,
                }
            )
    return pd.DataFrame(rows).reindex(columns=FORECAST.column_names)


@asset(
    key=FORECAST_KEY,
    deps=[CALLS_KEY],
    group_name="marts",
    owners=["team:analytics"],
    description=(
        "Next quarter's calls from the public per city x service category x week (ETS with a weekly "
        "season, 95 % prediction intervals), each with its backtest against the seasonal-naive forecast."
    ),
)
def mart_demand_forecast(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    built = FORECAST.build(warehouse, lambda con: series_of(con.execute(DAILY_SQL).df()), forecast_frame)
    frame = built.frame
    fitted = frame.dropna(subset=["forecast_calls"]).drop_duplicates(["city", "service_category"])
    beaten = int(fitted["beats_seasonal_naive"].sum())
    context.log.info(f"{len(fitted)} series forecast; {beaten} beat the seasonal-naive forecast on their backtest")
    return MaterializeResult(
        metadata={
            **built.metadata,
            "rows": len(frame),
            "series_forecast": len(fitted),
            "series_beating_seasonal_naive": beaten,
            "backtests": MetadataValue.md(
                "| city | category | model MAE | seasonal-naive MAE |\n|---|---|---:|---:|\n"
                + "".join(
                    f"| {r.city} | {r.service_category} | {r.backtest_mae:.1f} | {r.seasonal_naive_mae:.1f} |\n"
                    for r in fitted.itertuples()
                )
            ),
        }
    )
