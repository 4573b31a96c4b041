{#-
    311 / 211 demand per month x area x service type x channel, beside the 911 demand of the same
    city, area and month (a city's requests and calls come from different source profiles, joined
    through the city_source_profiles seed; a profile missing there is its own city).
-#}
with cities as (
    select * from {{ ref('city_source_profiles') }}
),

requests as (
    select
        coalesce(cities.city, requests.source_profile) as city,
        requests.source_profile,
        {{ month_start('requests.created_at_local') }} as request_month,
        coalesce(requests.beat, requests.district, 'unknown') as area_id,
        requests.service_type,
        requests.channel,
        count(*) as requests,
        sum(case when requests.status = 'closed' then 1 else 0 end) as closed_requests,
        avg({{ minutes_between('requests.created_at_utc', 'requests.closed_at_utc') }}) / 60.0 as mean_hours_to_close
    from {{ ref('stg_service_requests') }} as requests
    left join cities
        on requests.source_profile = cities.source_profile
    group by
        coalesce(cities.city, requests.source_profile),
        requests.source_profile,
        {{ month_start('requests.created_at_local') }},
        coalesce(requests.beat, requests.district, 'unknown'),
        requests.service_type,
        requests.channel
),

calls as (
    select
        coalesce(cities.city, calls.source_profile) as city,
        calls.call_month,
        calls.area_id,
        count(*) as calls_for_service,
        sum(case when calls.is_alternative_eligible then 1 else 0 end) as alternative_eligible_calls,
        sum(case when calls.is_officer_initiated then 0 else 1 end) as community_generated_calls
    from {{ ref('int_calls_classified') }} as calls
    left join cities
        on calls.source_profile = cities.source_profile
    where calls.is_police_call
    group by coalesce(cities.city, calls.source_profile), calls.call_month, calls.area_id
)

select
    requests.*,
    coalesce(calls.calls_for_service, 0) as area_calls_for_service,
    coalesce(calls.community_generated_calls, 0) as area_community_generated_calls,
    coalesce(calls.alternative_eligible_calls, 0) as area_alternative_eligible_calls
from requests
left join calls
    on
        requests.city = calls.city
        and requests.request_month = calls.call_month
        and requests.area_id = calls.area_id
