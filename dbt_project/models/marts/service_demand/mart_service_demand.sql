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
    where int_calls.is_police_call
),

grouped as (
    select
        source_profile,
        call_month,
        area_id,
        area_level,
        district,
        service_category,
        call_source,
        count(*) as calls,
        sum(case when is_criminal then 1 else 0 end) as criminal_calls,
        sum(case when is_criminal = false then 1 else 0 end) as non_criminal_calls,
        sum(case when is_officer_initiated then 1 else 0 end) as officer_initiated_calls,
        sum(officer_hours) as officer_hours,
        sum(estimated_cost) as estimated_cost,
        sum(case when is_alternative_eligible then 1 else 0 end) as alternative_eligible_calls,
        sum(case when is_officer_initiated then 0 else 1 end) as calls_from_public,
        sum(case when is_alternative_eligible and not coalesce(is_officer_initiated, false) then 1 else 0 end)
            as alternative_eligible_calls_from_public,
        sum(case when is_alternative_eligible then officer_hours else 0 end) as alternative_eligible_officer_hours,
        sum(case when is_alternative_eligible then estimated_cost else 0 end) as alternative_eligible_cost,
        sum(alternative_cost) as alternative_responder_cost,
        sum(case when time_on_call_method = 'measured' then 1 else 0 end) as calls_with_measured_time,
        max(loaded_at) as loaded_through,
        max(admitted_at) as admitted_through
    from calls
    group by source_profile, call_month, area_id, area_level, district, service_category, call_source
),

with_month as (
    select
        *,
        sum(calls) over (partition by source_profile, call_month) as calls_in_month
    from grouped
)

select
    *,
    {{ fraction('calls', 'calls_in_month') }} as share_of_calls,
    officer_hours / nullif(sum(officer_hours) over (partition by source_profile, call_month), 0)
        as share_of_officer_hours,
    alternative_eligible_cost - coalesce(alternative_responder_cost, 0) as cost_shift_if_moved,
    -- 95 % Wilson score interval of the share of calls
    {{ wilson_low('calls', 'calls_in_month') }} as share_of_calls_low,
    {{ wilson_high('calls', 'calls_in_month') }} as share_of_calls_high
from with_month
