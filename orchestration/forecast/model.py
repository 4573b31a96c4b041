"""Demand forecasts: a city's daily calls from the public in one service category, forecast by
exponential smoothing with a weekly season (statsmodels' ETS, additive error, level and season),
summed into weeks, with 95 % prediction intervals from simulated paths. Each forecast comes with
its backtest: the same model fitted without the last weeks, scored on them against the
seasonal-naive forecast (every day as on the same weekday of the last week seen).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

SEASON = 7  # days
HORIZON_WEEKS = 13  # the next quarter
BACKTEST_WEEKS = 8
MIN_WEEKS = 12  # fewer weeks of history: no forecast (said so)
PATHS = 500


@dataclass(frozen=True)
class Forecast:
    weeks: pd.DataFrame  # week_start, forecast, low, high
    backtest_mae: float
    naive_mae: float
    method: str


def _fit(daily: pd.Series):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    model = ETSModel(daily.astype(float), error="add", trend=None, seasonal="add", seasonal_periods=SEASON)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short or flat series
        return model.fit(disp=False)


def _weekly(days: pd.DatetimeIndex, values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=days).groupby(days.to_period("W-SUN").start_time).sum()


def forecast_daily(daily: pd.Series, seed: int = 0) -> Forecast | None:
    """``daily``: calls per day (a full, gap-free daily index starting on a Monday and ending on a
    Sunday). None when there are fewer than MIN_WEEKS weeks."""
    if len(daily) < MIN_WEEKS * SEASON:
        return None
    fitted = _fit(daily)
    days = pd.date_range(daily.index[-1] + pd.Timedelta(days=1), periods=HORIZON_WEEKS * SEASON, freq="D")
    mean = np.asarray(fitted.forecast(len(days)))
    paths = np.asarray(fitted.simulate(len(days), repetitions=PATHS, anchor="end", rng=np.random.default_rng(seed)))
    sums = np.stack([_weekly(days, paths[:, i]).to_numpy() for i in range(paths.shape[1])], axis=1)
    weeks = _weekly(days, mean)
    frame = pd.DataFrame(
        {
            "week_start": weeks.index,
            "forecast": weeks.to_numpy(),
            "low": np.maximum(np.quantile(sums, 0.025, axis=1), 0),
            "high": np.quantile(sums, 0.975, axis=1),
        }
    )
    # backtest: fit without the last weeks, forecast them, score against the seasonal-naive forecast
    cut = len(daily) - BACKTEST_WEEKS * SEASON
    train, test = daily.iloc[:cut], daily.iloc[cut:]
    held = _fit(train)
    predicted = _weekly(test.index, np.asarray(held.forecast(len(test))))
    naive_days = np.tile(train.iloc[-SEASON:].to_numpy(), BACKTEST_WEEKS)
    naive = _weekly(test.index, naive_days)
    actual = _weekly(test.index, test.to_numpy())
    return Forecast(
        weeks=frame,
        backtest_mae=float(np.mean(np.abs(predicted - actual))),
        naive_mae=float(np.mean(np.abs(naive - actual))),
        method="ETS(A,N,A), weekly season; 95 % interval from 500 simulated paths",
    )
