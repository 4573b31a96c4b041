{#- 311 / 211 demand per month x area x service type x channel, beside the 911 demand of the same area and month. -#}
with requests as (
    select
        source_profile,
        {{ month_start('created_at_local') }} as request_month,
        coalesce(beat, district, 'unknown') as area_id,
        service_type,
        channel,
        count(*) as requests,
        sum(case when status = 'closed' then 1 else 0 end) as closed_requests,
        avg({{ minutes_between('created_at_utc', 'closed_at_utc') }}) / 60.0 as mean_hours_to_close
    from {{ ref('stg_service_requests') }}
    group by
        source_profile,
        {{ month_start('created_at_local') }},
        coalesce(beat, district, 'unknown'),
        service_type,
        channel
),

calls as (
    select
        call_month,
        area_id,
        count(*) as calls_for_service,
        sum(case when is_alternative_eligible then 1 else 0 end) as alternative_eligible_calls,
        sum(case when is_officer_initiated then 0 else 1 end) as community_generated_calls
    from {{ ref('int_calls_classified') }}
    group by call_month, area_id
)

select
    requests.*,
    coalesce(calls.calls_for_service, 0) as area_calls_for_service,
    coalesce(calls.community_generated_calls, 0) as area_community_generated_calls,
    coalesce(calls.alternative_eligible_calls, 0) as area_alternative_eligible_calls
from requests
left join calls
    on
        requests.request_month = calls.call_month
        and requests.area_id = calls.area_id
