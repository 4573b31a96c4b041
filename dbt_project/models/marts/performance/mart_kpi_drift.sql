{#-
    Is a KPI drifting off its usual range? Weekly series per city: the median response time
    (call received to on scene) per priority and district, and for the whole city; and the calls
    from the public per service category. Each complete week's value (a week with records on all
    seven days, and at least min_cell_count timed calls for a median) is set against its own
    baseline: the mean and standard deviation of the series over kpi_drift_baseline_weeks judged
    weeks (at least kpi_drift_min_baseline_weeks) before the kpi_drift_weeks weeks just before it
    (left out so that a drift is judged against the level before it began, not one it has already
    moved), and a 99 % prediction range mean +- 2.576 sd sqrt(1 + 1/n). A series drifts when its value has been
    outside that range on the same side for kpi_drift_weeks judged weeks in a row. With one year
    of data there is no same-week-last-year: the baseline is the recent level (stated in
    baseline_method).
-#}
{%- set z = 2.576 -%}
{%- set window_weeks = var('kpi_drift_baseline_weeks') -%}
{%- set gap_weeks = var('kpi_drift_weeks') -%}
with cities as (
    select * from {{ ref('city_source_profiles') }}
),

calls as (
    select
        calls.source_profile,
        coalesce(cities.city, calls.source_profile) as city,
        calls.service_category,
        {{ week_start('calls.received_at_local') }} as received_week,
        cast(calls.received_at_local as date) as received_date
    from {{ ref('fct_calls_for_service') }} as calls
    left join cities
        on calls.source_profile = cities.source_profile
    where not calls.is_officer_initiated
),

-- a week is judged only when the city's calls cover all seven of its days
complete_weeks as (
    select
        city,
        received_week
    from calls
    group by city, received_week
    having count(distinct received_date) = 7
),

intervals as (
    select * from {{ ref('int_call_response_intervals') }}
    where received_to_on_scene_minutes is not null
),

series_values as (
    select
        city,
        'median_response_minutes' as kpi,
        priority,
        coalesce(district, 'unknown') as district,
        'all' as service_category,
        received_week,
        count(*) as observations,
        {{ percentile_cont('received_to_on_scene_minutes', 0.5) }} as kpi_value
    from intervals
    group by city, priority, coalesce(district, 'unknown'), received_week
    having count(*) >= {{ var('min_cell_count') }}

    union all

    select
        city,
        'median_response_minutes' as kpi,
        priority,
        'all' as district,
        'all' as service_category,
        received_week,
        count(*) as observations,
        {{ percentile_cont('received_to_on_scene_minutes', 0.5) }} as kpi_value
    from intervals
    group by city, priority, received_week
    having count(*) >= {{ var('min_cell_count') }}

    union all

    select
        city,
        'calls_from_public' as kpi,
        'all' as priority,
        'all' as district,
        service_category,
        received_week,
        count(*) as observations,
        count(*) as kpi_value
    from calls
    group by city, service_category, received_week
),

judged as (
    select series_values.*
    from series_values
    inner join complete_weeks
        on
            series_values.city = complete_weeks.city
            and series_values.received_week = complete_weeks.received_week
),

baselined as (
    select
        *,
        count(kpi_value) over (
            partition by city, kpi, priority, district, service_category
            order by received_week
            rows between {{ window_weeks + gap_weeks }} preceding and {{ gap_weeks + 1 }} preceding
        ) as baseline_weeks,
        avg(kpi_value) over (
            partition by city, kpi, priority, district, service_category
            order by received_week
            rows between {{ window_weeks + gap_weeks }} preceding and {{ gap_weeks + 1 }} preceding
        ) as baseline_mean,
        stddev_samp(kpi_value) over (
            partition by city, kpi, priority, district, service_category
            order by received_week
            rows between {{ window_weeks + gap_weeks }} preceding and {{ gap_weeks + 1 }} preceding
        ) as baseline_sd
    from judged
),

ranged as (
    select
        *,
        case
            when baseline_weeks >= {{ var('kpi_drift_min_baseline_weeks') }}
                then baseline_mean - {{ z }} * baseline_sd * sqrt(1 + 1.0 / baseline_weeks)
        end as expected_low,
        case
            when baseline_weeks >= {{ var('kpi_drift_min_baseline_weeks') }}
                then baseline_mean + {{ z }} * baseline_sd * sqrt(1 + 1.0 / baseline_weeks)
        end as expected_high
    from baselined
),

positioned as (
    select
        *,
        case
            when expected_low is null then 'no baseline'
            when kpi_value > expected_high then 'above'
            when kpi_value < expected_low then 'below'
            else 'within'
        end as position
    from ranged
),

-- consecutive judged weeks on the same side: a run is the weeks whose two row numbers differ alike
runs as (
    select
        *,
        row_number() over (partition by city, kpi, priority, district, service_category order by received_week)
        - row_number() over (
            partition by city, kpi, priority, district, service_category, position order by received_week
        ) as run_id
    from positioned
),

counted as (
    select
        *,
        row_number() over (
            partition by city, kpi, priority, district, service_category, position, run_id order by received_week
        ) as weeks_in_a_row
    from runs
)

select
    city,
    kpi,
    priority,
    district,
    service_category,
    received_week,
    observations,
    kpi_value,
    baseline_weeks,
    baseline_mean,
    baseline_sd,
    expected_low,
    expected_high,
    position,
    case when position in ('above', 'below') then weeks_in_a_row else 0 end as weeks_outside_in_a_row,
    position in ('above', 'below') and weeks_in_a_row >= {{ var('kpi_drift_weeks') }} as is_drifting,
    'the {{ window_weeks }} judged weeks before the previous {{ gap_weeks }} (the recent level; no seasonal term)'
        as baseline_method
from counted
