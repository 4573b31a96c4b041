{#-
    The scorecard's latest complete period per city x KPI x grain (month, quarter, fiscal year):
    what a dashboard's headline numbers read, so "the latest" means the same in every tool. A
    period covered in part is never the latest; a withheld value stays withheld (NULL, with the
    scorecard's note).
-#}
with scorecard as (
    select * from {{ ref('mart_kpi_scorecard') }}
),

ranked as (
    select
        *,
        row_number() over (partition by city, kpi, period_grain order by period_start desc) as recency
    from scorecard
    where not coalesce(is_partial_period, false)
)

select
    city,
    kpi,
    kpi_label,
    period_grain,
    period,
    period_start,
    unit,
    direction,
    value,
    value_low,
    value_high,
    interval_method,
    target,
    status,
    prior_period,
    prior_value,
    change_from_prior,
    change_significance,
    base_count,
    note,
    source_mart,
    source_column
from ranked
where recency = 1
