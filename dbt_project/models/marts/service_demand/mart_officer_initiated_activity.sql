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

with touched as (
    {{ months_touched_since_last_build('calls_for_service', 'call_id', 'received_at') }}
    union
    {{ months_touched_since_last_build('stops', 'stop_id', 'stopped_at') }}
),

officer_calls as (
    select int_calls.*
    from {{ ref('int_calls_classified') }} as int_calls
    {{ in_touched_months('int_calls', 'call_month') }}
    where int_calls.is_officer_initiated
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
        sum(case when outcome = 'none' or outcome is null then 1 else 0 end) as no_enforcement_stops,
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
)

select
    *,
    searches_with_contraband * 1.0 / nullif(searches, 0) as search_hit_rate,
    (arrests + citations) * 1.0 / nullif(stops, 0) as enforcement_rate
from unioned
