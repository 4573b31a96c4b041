{{
    config(
        materialized=large_fact_materialization(),
        unique_key=['source_profile', 'call_month'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

-- touched is read by in_touched_months on an incremental build only (a full build renders no join)
with touched as (  -- noqa: ST03
    {{ months_touched_since_last_build('calls_for_service', 'call_id', 'received_at') }}
),

calls as (
    select int_calls.* from {{ ref('int_calls_classified') }} as int_calls
    {{ in_touched_months('int_calls', 'call_month') }}
),

grouped as (
    select
        source_profile,
        call_month,
        -- a unit's status (return to station, out of service) is counted apart, not as a call;
        -- so are another agency's records (fire, EMS) in a mixed 911 feed
        sum(case when is_police_call then 1 else 0 end) as calls,
        sum(case when is_unit_status then 1 else 0 end) as unit_status_events,
        sum(case when is_unit_status then officer_hours else 0 end) as unit_status_hours,
        sum(case when agency <> 'police' then 1 else 0 end) as other_agency_records,
        sum(case when is_classified then 0 else 1 end) as unclassified_calls,
        sum(case when is_in_taxonomy or agency <> 'police' then 0 else 1 end) as calls_not_in_taxonomy,
        count(distinct case when is_in_taxonomy or agency <> 'police' then null else call_type end)
            as call_types_not_in_taxonomy,
        sum(case when is_police_call then officer_hours else 0 end) as officer_hours,
        sum(case when is_classified then 0 else officer_hours end) as unclassified_officer_hours,
        -- the days of the month the extract has records on (any record: a day of unit statuses
        -- alone is a day the extract covers)
        count(distinct cast(received_at_local as date)) as days_with_records,
        max(loaded_at) as loaded_through,
        max(admitted_at) as admitted_through
    from calls
    group by source_profile, call_month
),

with_days as (
    select
        *,
        {{ dbt.datediff('call_month', dbt.dateadd('month', 1, 'call_month'), 'day') }} as days_in_month  -- noqa: LT05
    from grouped
)

select
    *,
    {{ fraction('unclassified_calls', 'calls') }} as unclassified_share,
    unclassified_officer_hours / nullif(officer_hours, 0) as unclassified_hours_share,
    -- 95 % Wilson score interval of the unclassified share of calls
    {{ wilson_low('unclassified_calls', 'calls') }} as unclassified_share_low,
    {{ wilson_high('unclassified_calls', 'calls') }} as unclassified_share_high,
    -- months compare per day, and a month the extract covers only in part says so (Milwaukee's
    -- May 2018 file holds 21 of its 31 days): coverage = days with records / days in the month
    {{ fraction('days_with_records', 'days_in_month') }} as month_coverage,
    days_with_records < days_in_month as is_partial_month,
    {{ fraction('calls', 'days_with_records') }} as calls_per_day
from with_days
