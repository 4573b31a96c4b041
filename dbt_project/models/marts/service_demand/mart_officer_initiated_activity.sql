{#-
    What officers do on their own initiative: self-initiated CAD events (by call type) and
    stops (by stop type), per month x area x activity type x hour of the week.
-#}
{{
    config(
        materialized=large_fact_materialization(),
        unique_key=['source_profile', 'activity_month'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

-- touched is read by in_touched_months on an incremental build only (a full build renders no join)
with touched as (  -- noqa: ST03
    {{ months_touched_since_last_build('calls_for_service', 'call_id', 'received_at') }}
    union
    {{ months_touched_since_last_build('stops', 'stop_id', 'stopped_at') }}
),

officer_calls as (
    select int_calls.*
    from {{ ref('int_calls_classified') }} as int_calls
    {{ in_touched_months('int_calls', 'call_month') }}
    where int_calls.is_officer_initiated and int_calls.is_police_call
),

stops_with_month as (
    select
        *,
        {{ month_start('stopped_at_local') }} as stop_month
    from {{ ref('stg_stops') }}
),

stops_in_scope as (
    select stops_with_month.*
    from stops_with_month
    {{ in_touched_months('stops_with_month', 'stop_month') }}
),

events as (
    select
        source_profile,
        'cad_event' as activity_source,
        call_month as activity_month,
        area_id,
        district,
        lower(call_type) as activity_type,
        hour_of_week,
        count(*) as events,
        sum(officer_hours) as officer_hours,
        0 as stops,
        0 as searches,
        0 as searches_with_contraband,
        0 as arrests,
        0 as citations,
        0 as warnings,
        0 as no_enforcement_stops,
        0 as outcome_not_recorded_stops,
        max(loaded_at) as loaded_through,
        max(admitted_at) as admitted_through
    from officer_calls
    group by source_profile, call_month, area_id, district, lower(call_type), hour_of_week
),

stops as (
    select
        source_profile,
        'stop' as activity_source,
        stop_month as activity_month,
        coalesce(beat, district, 'unknown') as area_id,
        district,
        'stop: ' || coalesce(stop_type, 'unknown') as activity_type,
        {{ hour_of_week('stopped_at_local') }} as hour_of_week,
        count(*) as events,
        cast(null as {{ type_double() }}) as officer_hours,
        count(*) as stops,
        sum(case when search_conducted then 1 else 0 end) as searches,
        sum(case when search_conducted and contraband_found then 1 else 0 end) as searches_with_contraband,
        sum(case when outcome = 'arrest' then 1 else 0 end) as arrests,
        sum(case when outcome in ('citation', 'summons') then 1 else 0 end) as citations,
        sum(case when outcome = 'warning' then 1 else 0 end) as warnings,
        sum(case when outcome = 'none' then 1 else 0 end) as no_enforcement_stops,
        sum(case when outcome is null then 1 else 0 end) as outcome_not_recorded_stops,
        max(loaded_at) as loaded_through,
        max(admitted_at) as admitted_through
    from stops_in_scope
    group by
        source_profile,
        stop_month,
        coalesce(beat, district, 'unknown'),
        district,
        'stop: ' || coalesce(stop_type, 'unknown'),
        {{ hour_of_week('stopped_at_local') }}
),

unioned as (
    select * from events
    union all
    select * from stops
),

-- Disclosure: a stop-derived count from 1 to min_cell_count - 1 is withheld, and complementary
-- suppression withholds more until none can be recovered by subtraction, from the area-month's
-- total (published by mart_stop_equity and mart_enforcement_divergence) or from a row's stops
-- against its outcomes. CAD events are not counts of people and are published as counted.
stop_rows as (
    select
        unioned.*,
        {{ join_text([
            'unioned.source_profile', "'|'", as_text('unioned.activity_month'), "'|'", 'unioned.area_id', "'|'",
            'unioned.activity_type', "'|'", as_text('unioned.hour_of_week')
        ]) }} as row_id
    from unioned
    where unioned.activity_source = 'stop'
),

stop_variables as (
    select 'stops' as variable
    union all
    select 'searches' as variable
    union all
    select 'searches_with_contraband' as variable
    union all
    select 'arrests' as variable
    union all
    select 'citations' as variable
    union all
    select 'warnings' as variable
    union all
    select 'no_enforcement_stops' as variable
    union all
    select 'outcome_not_recorded_stops' as variable
),

stop_cells as (
    select
        stop_rows.source_profile,
        stop_rows.activity_month,
        stop_rows.area_id,
        stop_rows.row_id,
        stop_variables.variable,
        {{ join_text(['stop_rows.row_id', "'|'", 'stop_variables.variable']) }} as cell_id,
        case stop_variables.variable
            when 'stops' then stop_rows.stops
            when 'searches' then stop_rows.searches
            when 'searches_with_contraband' then stop_rows.searches_with_contraband
            when 'arrests' then stop_rows.arrests
            when 'citations' then stop_rows.citations
            when 'warnings' then stop_rows.warnings
            when 'no_enforcement_stops' then stop_rows.no_enforcement_stops
            else stop_rows.outcome_not_recorded_stops
        end as cell_value
    from stop_rows
    cross join stop_variables
),

disclosure_cells as (
    select
        cell_id,
        cell_value,
        cell_value > 0 and cell_value < {{ var('min_cell_count') }} as is_withheld
    from stop_cells
),

disclosure_members as (
    -- the area-month's stops (searches, hits, outcomes) are published elsewhere: its rows add up to them
    select
        {{ join_text([
            "'area|'", 'source_profile', "'|'", as_text('activity_month'), "'|'", 'area_id', "'|'", 'variable'
        ]) }} as equation_id,
        cell_id
    from stop_cells
    union all
    -- a row's stops against its outcomes
    select
        {{ join_text(["'row|'", 'row_id']) }} as equation_id,
        cell_id
    from stop_cells
    where variable not in ('searches', 'searches_with_contraband')
),

{{ complementary_suppression('disclosure_cells', 'disclosure_members', 'disclosed') }},

withheld as (
    select
        stop_cells.row_id,
        max(case when stop_cells.variable = 'stops' and disclosed.is_withheld then 1 else 0 end) = 1
            as stops_withheld,
        max(case when stop_cells.variable = 'searches' and disclosed.is_withheld then 1 else 0 end) = 1
            as searches_withheld,
        max(
            case when stop_cells.variable = 'searches_with_contraband' and disclosed.is_withheld then 1 else 0 end
        ) = 1 as searches_with_contraband_withheld,
        max(case when stop_cells.variable = 'arrests' and disclosed.is_withheld then 1 else 0 end) = 1
            as arrests_withheld,
        max(case when stop_cells.variable = 'citations' and disclosed.is_withheld then 1 else 0 end) = 1
            as citations_withheld,
        max(case when stop_cells.variable = 'warnings' and disclosed.is_withheld then 1 else 0 end) = 1
            as warnings_withheld,
        max(case when stop_cells.variable = 'no_enforcement_stops' and disclosed.is_withheld then 1 else 0 end) = 1
            as no_enforcement_stops_withheld,
        max(
            case when stop_cells.variable = 'outcome_not_recorded_stops' and disclosed.is_withheld then 1 else 0 end
        ) = 1 as outcome_not_recorded_stops_withheld
    from stop_cells
    inner join disclosed on stop_cells.cell_id = disclosed.cell_id
    group by stop_cells.row_id
),

published as (
    select
        unioned.source_profile,
        unioned.activity_source,
        unioned.activity_month,
        unioned.area_id,
        unioned.district,
        unioned.activity_type,
        unioned.hour_of_week,
        case when withheld.stops_withheld then null else unioned.events end as events,
        unioned.officer_hours,
        case when withheld.stops_withheld then null else unioned.stops end as stops,
        case when withheld.searches_withheld then null else unioned.searches end as searches,
        case
            when withheld.searches_with_contraband_withheld then null else unioned.searches_with_contraband
        end as searches_with_contraband,
        case when withheld.arrests_withheld then null else unioned.arrests end as arrests,
        case when withheld.citations_withheld then null else unioned.citations end as citations,
        case when withheld.warnings_withheld then null else unioned.warnings end as warnings,
        unioned.loaded_through,
        unioned.admitted_through,
        {{ fraction('unioned.searches_with_contraband', 'unioned.searches') }} as search_hit_rate,
        {{ fraction('(unioned.arrests + unioned.citations)', 'unioned.stops') }} as enforcement_rate,
        case
            when withheld.no_enforcement_stops_withheld then null else unioned.no_enforcement_stops
        end as no_enforcement_stops,
        case
            when withheld.outcome_not_recorded_stops_withheld then null else unioned.outcome_not_recorded_stops
        end as outcome_not_recorded_stops,
        coalesce(
            withheld.searches_withheld or withheld.searches_with_contraband_withheld, false
        ) as is_hit_rate_withheld,
        coalesce(
            withheld.stops_withheld or withheld.arrests_withheld or withheld.citations_withheld, false
        ) as is_enforcement_rate_withheld
    from unioned
    left join stop_rows
        on
            unioned.activity_source = stop_rows.activity_source
            and unioned.source_profile = stop_rows.source_profile
            and unioned.activity_month = stop_rows.activity_month
            and unioned.area_id = stop_rows.area_id
            and unioned.activity_type = stop_rows.activity_type
            and unioned.hour_of_week = stop_rows.hour_of_week
    left join withheld on stop_rows.row_id = withheld.row_id
)

select
    source_profile,
    activity_source,
    activity_month,
    area_id,
    district,
    activity_type,
    hour_of_week,
    events,
    officer_hours,
    stops,
    searches,
    searches_with_contraband,
    arrests,
    citations,
    warnings,
    no_enforcement_stops,
    loaded_through,
    admitted_through,
    case when not is_hit_rate_withheld then search_hit_rate end as search_hit_rate,
    case when not is_enforcement_rate_withheld then enforcement_rate end as enforcement_rate,
    outcome_not_recorded_stops
from published
