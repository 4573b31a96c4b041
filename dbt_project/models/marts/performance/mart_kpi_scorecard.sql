{#-
    The KPI scorecard: one row per city x KPI x period, with target, direction, status and change
    from the prior period. Each KPI is read from the mart column named in source_mart and
    source_column; targets and directions come from seeds/kpi_targets.csv.
    A KPI that the city's data cannot give (response times for a city whose extract has no dispatch
    or arrival times) has no row, and a period is published only when every KPI of its grain has a
    value in it; a value resting on a small cell is NULL with status 'no data' and a note.
    A month the city's call extracts cover only in part (mart_classification_coverage) carries its
    coverage and is kept out of comparisons: no change from or to it is computed.
-#}
with response_times as (
    select * from {{ ref('mart_response_times') }}
    where priority = 'all' and area_id = 'all'
),

coverage as (
    select * from {{ ref('mart_classification_coverage') }}
),

service_demand as (
    select * from {{ ref('mart_service_demand') }}
),

trust as (
    select * from {{ ref('mart_community_trust') }}
    where area_id = 'all'
),

budget as (
    select * from {{ ref('mart_budget_performance') }}
),

enforcement as (
    select * from {{ ref('int_enforcement_divergence') }}
    where period_type = 'month'
),

cities as (
    select * from {{ ref('city_source_profiles') }}
),

targets as (
    select * from {{ ref('kpi_targets') }}
),

{%- set response_kpis = [
    ('median_response_minutes', 'median_received_to_on_scene_minutes'),
    ('p90_response_minutes', 'p90_received_to_on_scene_minutes'),
    ('share_within_response_target', 'share_within_target'),
] %}

{%- set trust_kpis = [
    ('trust_police_score', 'mean_trust_police'),
    ('police_treat_fairly_score', 'mean_police_treat_fairly'),
    ('feel_safe_day_score', 'mean_feel_safe_day'),
    ('feel_safe_night_score', 'mean_feel_safe_night'),
] %}

kpi_values as (
    {%- for kpi, column in response_kpis %}
        select
            city,
            source_profile,
            '{{ kpi }}' as kpi,
            'month' as period_grain,
            {{ month_label('call_month') }} as period,
            call_month as period_start,
            {{ column }} as value,
            calls_timed as base_count,
            case when publication_status <> 'published' then publication_status end as note,
            'mart_response_times' as source_mart,
            '{{ column }}' as source_column,
            {%- if kpi == 'share_within_response_target' %}
                share_within_target_low as value_low,
                share_within_target_high as value_high,
                'Wilson score, 95 %' as interval_method
            {%- else %}
                {{ column }}_low as value_low,
                {{ column }}_high as value_high,
                'distribution-free (order statistics), 95 %' as interval_method
            {%- endif %}
        from response_times
        union all
    {%- endfor %}

    select
        coalesce(cities.city, coverage.source_profile) as city,
        coverage.source_profile,
        'unclassified_call_share' as kpi,
        'month' as period_grain,
        {{ month_label('coverage.call_month') }} as period,
        coverage.call_month as period_start,
        coverage.unclassified_share as value,
        coverage.calls as base_count,
        {{ as_text('null') }} as note,
        'mart_classification_coverage' as source_mart,
        'unclassified_share' as source_column,
        {{ wilson_low('coverage.unclassified_calls', 'coverage.calls') }} as value_low,
        {{ wilson_high('coverage.unclassified_calls', 'coverage.calls') }} as value_high,
        'Wilson score, 95 %' as interval_method
    from coverage
    left join cities
        on coverage.source_profile = cities.source_profile
    union all

    select
        coalesce(cities.city, demand.source_profile) as city,
        demand.source_profile,
        'alternative_eligible_share' as kpi,
        'month' as period_grain,
        {{ month_label('demand.call_month') }} as period,
        demand.call_month as period_start,
        {{ fraction('sum(demand.alternative_eligible_calls_from_public)', 'sum(demand.calls_from_public)') }} as value,
        sum(demand.calls_from_public) as base_count,
        {{ as_text('null') }} as note,
        'mart_service_demand' as source_mart,
        'alternative_eligible_calls_from_public / calls_from_public' as source_column,
        {{ wilson_low('sum(demand.alternative_eligible_calls_from_public)', 'sum(demand.calls_from_public)') }}
            as value_low,
        {{ wilson_high('sum(demand.alternative_eligible_calls_from_public)', 'sum(demand.calls_from_public)') }}
            as value_high,
        'Wilson score, 95 %' as interval_method
    from service_demand as demand
    left join cities
        on demand.source_profile = cities.source_profile
    group by coalesce(cities.city, demand.source_profile), demand.source_profile, demand.call_month
    union all

    select
        city,
        {{ as_text('null') }} as source_profile,
        'untethered_contact_share' as kpi,
        'month' as period_grain,
        {{ month_label('period_start') }} as period,
        period_start,
        {{ fraction('sum(untethered_stops)', 'sum(stops_with_known_outcome)') }} as value,
        sum(stops_with_known_outcome) as base_count,
        {{ as_text('null') }} as note,
        'mart_enforcement_divergence' as source_mart,
        'untethered_stops / stops_with_known_outcome' as source_column,
        {{ wilson_low('sum(untethered_stops)', 'sum(stops_with_known_outcome)') }} as value_low,
        {{ wilson_high('sum(untethered_stops)', 'sum(stops_with_known_outcome)') }} as value_high,
        'Wilson score, 95 %' as interval_method
    from enforcement
    group by city, period_start
    union all

    {%- for kpi, column in trust_kpis %}
        select
            city,
            source_profile,
            '{{ kpi }}' as kpi,
            'survey_wave' as period_grain,
            wave as period,
            wave_start as period_start,
            {{ column }} as value,
            respondents as base_count,
            case when publication_status <> 'published' then publication_status end as note,
            'mart_community_trust' as source_mart,
            '{{ column }}' as source_column,
            {{ column }} - {{ column | replace('mean_', 'moe_') }} as value_low,
            {{ column }} + {{ column | replace('mean_', 'moe_') }} as value_high,
            'survey margin of error, 95 % (Kish effective sample size)' as interval_method
        from trust
        union all
    {%- endfor %}

    select
        city,
        source_profile,
        'cost_per_call' as kpi,
        'fiscal_year' as period_grain,
        fiscal_year_label as period,
        {{ fiscal_year_start('fiscal_year') }} as period_start,
        cost_per_call_from_public as value,
        community_calls_served as base_count,
        case
            when cost_per_call_from_public is null then 'no calls for service loaded for this fiscal year'
            when call_coverage < 1
                then {{ join_text([
                    "'spending of the '", as_text('days_with_calls'), "' days with calls landed (coverage '",
                    ratio_text('100 * call_coverage'), "' %) over their calls; per CAD event: '",
                    as_text('cast(round(cost_per_cad_event) as integer)'),
                ]) }}
            else {{ join_text([
                "'per CAD event (officer-initiated included): '", as_text('cast(round(cost_per_cad_event) as integer)')
            ]) }}
        end as note,
        'mart_budget_performance' as source_mart,
        'cost_per_call_from_public' as source_column,
        cost_per_call_from_public * community_calls_served / {{ poisson_high('community_calls_served') }} as value_low,
        cost_per_call_from_public * community_calls_served / nullif({{ poisson_low('community_calls_served') }}, 0)
            as value_high,
        'exact Poisson on the calls (Byar), 95 %' as interval_method
    from budget
    where service_area = 'police' and program = 'all'
    union all

    select
        city,
        source_profile,
        'alternatives_spending_share' as kpi,
        'fiscal_year' as period_grain,
        fiscal_year_label as period,
        {{ fiscal_year_start('fiscal_year') }} as period_start,
        alternatives_share_of_actual as value,
        cast(null as integer) as base_count,
        {{ as_text('null') }} as note,
        'mart_budget_performance' as source_mart,
        'alternatives_share_of_actual' as source_column,
        cast(null as {{ type_double() }}) as value_low,
        cast(null as {{ type_double() }}) as value_high,
        'none: a ratio of recorded spending, not an estimate' as interval_method
    from budget
    where row_level = 'public_safety'
),

-- Which rows are published:
-- * a KPI the city's data cannot give at all (response times from an extract with no dispatch or
--   arrival times) has no row; the report lists it as not available;
-- * a period is published for a city when every other KPI of its grain has a value in it, so that
--   each KPI has a value for every period (a fiscal year with a budget but no calls loaded is left out);
-- * a value resting on a small cell keeps its row, as 'no data' with the reason.
sized as (
    select
        *,
        case when base_count > 0 and base_count < {{ var('min_cell_count') }} then 1 else 0 end as is_small
    from kpi_values
),

flagged as (
    select
        *,
        max(case when value is not null or is_small = 1 then 1 else 0 end) over (partition by city, kpi)
            as kpi_has_values
    from sized
),

available as (
    select
        *,
        min(case when value is not null or is_small = 1 then 1 else 0 end)
            over (partition by city, period_grain, period)
            as period_is_complete
    from flagged
    where kpi_has_values = 1
),

published as (
    select
        city,
        source_profile,
        kpi,
        period_grain,
        period,
        period_start,
        case when is_small = 0 then value end as value,
        case when is_small = 0 then value_low end as value_low,
        case when is_small = 0 then value_high end as value_high,
        interval_method,
        case when is_small = 0 then base_count end as base_count,
        case
            when is_small = 1 then 'suppressed: fewer than {{ var("min_cell_count") }} records'
            else note
        end as note,
        source_mart,
        source_column
    from available
    where period_is_complete = 1
),

-- the city's month coverage: the best of its call sources (a month any of them covers in full is full)
city_months as (
    select
        coalesce(cities.city, coverage.source_profile) as city,
        coverage.call_month,
        max(coverage.month_coverage) as period_coverage
    from coverage
    left join cities
        on coverage.source_profile = cities.source_profile
    group by coalesce(cities.city, coverage.source_profile), coverage.call_month
),

targeted as (
    select
        published.*,
        city_months.period_coverage,
        coalesce(city_months.period_coverage < 1, false) as is_partial_period,
        coalesce(city_targets.label, default_targets.label) as kpi_label,
        coalesce(city_targets.unit, default_targets.unit) as unit,
        coalesce(city_targets.direction, default_targets.direction) as direction,
        coalesce(city_targets.target, default_targets.target) as target
    from published
    left join targets as city_targets
        on
            published.kpi = city_targets.kpi
            and published.city = city_targets.city
    left join targets as default_targets
        on
            published.kpi = default_targets.kpi
            and default_targets.city = 'all'
    left join city_months
        on
            published.period_grain = 'month'
            and published.city = city_months.city
            and published.period_start = city_months.call_month
),

final as (
    select
        -- grain
        city,
        kpi,
        period_grain,
        period,
        period_start,

        -- what it is
        kpi_label,
        unit,
        direction,

        -- the figure against its target: on or off track only when the whole interval is on one
        -- side of the target (a value without an interval is judged as it stands)
        value,
        value_low,
        value_high,
        interval_method,
        target,
        case
            when value is null or target is null then 'no data'
            when direction = 'higher' and coalesce(value_low, value) >= target then 'on track'
            when direction = 'lower' and coalesce(value_high, value) <= target then 'on track'
            when direction = 'higher' and coalesce(value_high, value) < target then 'off track'
            when direction = 'lower' and coalesce(value_low, value) > target then 'off track'
            else 'within the margin'
        end as status,
        period_coverage,
        is_partial_period,
        lag(period) over prior_periods as prior_period,
        lag(value) over prior_periods as prior_value,
        case
            when not (is_partial_period or lag(is_partial_period) over prior_periods)
                then value - lag(value) over prior_periods
        end as change_from_prior,
        -- a change is told apart from zero when it exceeds 1.96 standard errors of the difference
        -- (each period's standard error read from its 95 % interval: (high - low) / 3.92)
        case
            when lag(value) over prior_periods is null or value is null then null
            when is_partial_period or lag(is_partial_period) over prior_periods
                then 'not compared: a period covered in part'
            when value_low is null or lag(value_low) over prior_periods is null then 'no interval'
            when
                abs(value - lag(value) over prior_periods)
                > 1.959964 * sqrt(
                    power((value_high - value_low) / 3.919928, 2)
                    + power((lag(value_high) over prior_periods - lag(value_low) over prior_periods) / 3.919928, 2)
                )
                then 'distinguishable from zero'
            else 'within the margin'
        end as change_significance,
        base_count,
        note,

        -- where it comes from
        source_profile,
        source_mart,
        source_column
    from targeted
    window prior_periods as (partition by city, kpi, period_grain order by period_start)
)

select * from final
