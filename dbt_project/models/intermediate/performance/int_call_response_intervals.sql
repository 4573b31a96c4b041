{#-
    One row per community-generated call (officer-initiated events excluded: they start on scene),
    with its three response intervals and whether it was reached within its priority's target.
    An interval is NULL when a time is missing (a cancelled call never arrives; some cities record
    no dispatch or arrival at all), negative (a clock change or a data error) or implausibly long.
-#}
with calls as (
    select * from {{ ref('int_calls_classified') }}
    where not is_officer_initiated and is_police_call
),

cities as (
    select * from {{ ref('city_source_profiles') }}
),

targets as (
    select * from {{ ref('response_time_targets') }}
),

raw_intervals as (
    select
        call_key,
        source_profile,
        call_month,
        {{ week_start('received_at_local') }} as received_week,
        coalesce(priority, 'unknown') as priority,
        area_id,
        area_level,
        district,
        service_category,
        admitted_at,
        received_at_utc,
        dispatched_at_utc,
        arrived_at_utc,
        {{ minutes_between('received_at_utc', 'dispatched_at_utc') }} as raw_received_to_dispatch,
        {{ minutes_between('dispatched_at_utc', 'arrived_at_utc') }} as raw_dispatch_to_on_scene,
        {{ minutes_between('received_at_utc', 'arrived_at_utc') }} as raw_received_to_on_scene
    from calls
),

checked as (
    select
        *,
        case
            when dispatched_at_utc is null and arrived_at_utc is null then 'no dispatch or arrival time'
            when arrived_at_utc is null then 'no arrival time'
            when raw_received_to_on_scene < 0 then 'unusable: arrived before received'
            when raw_received_to_on_scene > {{ var('max_plausible_response_minutes') }}
                then 'unusable: implausibly long'
            else 'measured'
        end as interval_status
    from raw_intervals
),

final as (
    select
        -- ids
        checked.call_key,
        checked.source_profile,
        coalesce(cities.city, checked.source_profile) as city,

        -- grouping
        checked.call_month,
        checked.received_week,
        checked.priority,
        checked.area_id,
        checked.area_level,
        checked.district,
        checked.service_category,
        -- when the batch ledger admitted the call's file (mart_response_times' incremental watermark)
        checked.admitted_at,

        -- intervals in minutes (NULL when unusable)
        case
            when
                checked.raw_received_to_dispatch between 0 and {{ var('max_plausible_response_minutes') }}
                then checked.raw_received_to_dispatch
        end as received_to_dispatch_minutes,
        case
            when
                checked.raw_dispatch_to_on_scene between 0 and {{ var('max_plausible_response_minutes') }}
                then checked.raw_dispatch_to_on_scene
        end as dispatch_to_on_scene_minutes,
        case when checked.interval_status = 'measured' then checked.raw_received_to_on_scene end
            as received_to_on_scene_minutes,
        checked.interval_status,

        -- target
        targets.target_minutes,
        case
            when checked.interval_status = 'measured' and targets.target_minutes is not null
                then checked.raw_received_to_on_scene <= targets.target_minutes
        end as is_within_target
    from checked
    left join cities
        on checked.source_profile = cities.source_profile
    left join targets
        on
            checked.source_profile = targets.source_profile
            and checked.priority = targets.priority
)

select * from final
