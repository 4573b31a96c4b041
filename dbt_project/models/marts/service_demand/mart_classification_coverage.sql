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
        max(loaded_at) as loaded_through,
        max(admitted_at) as admitted_through
    from calls
    group by source_profile, call_month
)

select
    *,
    unclassified_calls * 1.0 / nullif(calls, 0) as unclassified_share,
    unclassified_officer_hours / nullif(officer_hours, 0) as unclassified_hours_share
from grouped
