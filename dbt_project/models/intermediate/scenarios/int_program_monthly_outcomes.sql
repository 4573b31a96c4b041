{#-
    The monthly outcomes a program (seeds/program_evaluations.csv) is judged on, per arm: the
    districts it runs in (treated) and the city's other districts (comparison). One row per
    program x outcome x month, with the outcome's value and what it counts in each arm:
      calls_reaching_police       its categories' calls from the public
      officer_hours               the officer hours on those calls
      repeat_calls_within_30_days those calls that follow another of its categories' calls at the
                                  same block address within 30 days (the address has to be known)
      median_response_minutes     the median time from a call to the first unit on scene, over
                                  every call from the public in the arm (what freed officer time
                                  would change), counted over calls with a measured time
    Incremental by month (macros/incremental.sql): a build recomputes, for each program of a
    city, the months the calls admitted since the last build touched and the month after each
    (a call is a repeat of one up to 30 days before it), reading the calls from two months before
    the earliest of them so that every repeat's earlier call is seen.
-#}
{{
    config(
        materialized=large_fact_materialization(),
        unique_key=['program', 'call_month'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with programs as (
    select * from {{ ref('program_evaluations') }}
),

cities as (
    select * from {{ ref('city_source_profiles') }}
),

-- (source profile, month) pairs the calls admitted since the last build touched; none on a full build
touched_sources as (
    {{ months_touched_since_last_build('calls_for_service', 'call_id', 'received_at') }}
),

-- each program's months to recompute (read by the filters below on an incremental build only)
touched as (  -- noqa: ST03
    select distinct
        programs.program as touched_program,
        touched_sources.touched_month
    from touched_sources
    left join cities
        on touched_sources.source_profile = cities.source_profile
    inner join programs
        on coalesce(cities.city, touched_sources.source_profile) = programs.city
    union
    select distinct
        programs.program as touched_program,
        cast({{ dbt.dateadd('month', 1, 'touched_sources.touched_month') }} as date) as touched_month
    from touched_sources
    left join cities
        on touched_sources.source_profile = cities.source_profile
    inner join programs
        on coalesce(cities.city, touched_sources.source_profile) = programs.city
),

-- each program's first month read: two months before its earliest month to recompute
read_from as (  -- noqa: ST03
    select
        touched_program,
        cast({{ dbt.dateadd('month', -2, 'min(touched_month)') }} as date) as first_month
    from touched
    group by touched_program
),

calls as (
    select
        coalesce(cities.city, calls.source_profile) as city,
        calls.source_profile,
        calls.call_key,
        calls.district,
        calls.service_category,
        calls.block_address,
        calls.received_at_utc,
        calls.call_month,
        calls.officer_hours,
        calls.admitted_at
    from {{ ref('fct_calls_for_service') }} as calls
    left join cities
        on calls.source_profile = cities.source_profile
    where not calls.is_officer_initiated and calls.district is not null
),

in_arms as (
    select
        programs.program,
        programs.start_month,
        calls.*,
        '|' || programs.treated_districts || '|' like '%|' || calls.district || '|%' as is_treated,
        '|' || programs.service_categories || '|' like '%|' || calls.service_category || '|%' as is_program_call
    from calls
    inner join programs
        on calls.city = programs.city
    {%- if is_incremental() %}
        inner join read_from
            on programs.program = read_from.touched_program and calls.call_month >= read_from.first_month
    {%- endif %}
),

program_calls as (
    select
        *,
        lag(received_at_utc) over (
            partition by program, source_profile, block_address order by received_at_utc, call_key
        ) as previous_call_at_utc
    from in_arms
    where is_program_call
),

repeats as (
    select
        *,
        coalesce(
            block_address is not null
            and {{ minutes_between('previous_call_at_utc', 'received_at_utc') }} <= 30 * 24 * 60,
            false
        ) as is_repeat
    from program_calls
),

responses as (
    select
        in_arms.program,
        in_arms.start_month,
        in_arms.call_month,
        in_arms.is_treated,
        in_arms.admitted_at,
        intervals.received_to_on_scene_minutes
    from in_arms
    inner join {{ ref('int_call_response_intervals') }} as intervals
        on in_arms.call_key = intervals.call_key
    where intervals.received_to_on_scene_minutes is not null
),

call_months as (
    select
        program,
        call_month,
        call_month >= start_month as is_post,
        sum(case when is_treated then 1 else 0 end) as treated_calls,
        sum(case when is_treated then 0 else 1 end) as comparison_calls,
        sum(case when is_treated then officer_hours else 0 end) as treated_hours,
        sum(case when is_treated then 0 else officer_hours end) as comparison_hours,
        sum(case when is_treated and is_repeat then 1 else 0 end) as treated_repeats,
        sum(case when not is_treated and is_repeat then 1 else 0 end) as comparison_repeats,
        max(admitted_at) as admitted_through
    from repeats
    {{ in_program_touched_months('repeats') }}
    group by program, call_month, call_month >= start_month
),

response_months as (
    select
        program,
        call_month,
        call_month >= start_month as is_post,
        sum(case when is_treated then 1 else 0 end) as treated_calls,
        sum(case when is_treated then 0 else 1 end) as comparison_calls,
        {{ percentile_cont('case when is_treated then received_to_on_scene_minutes end', 0.5) }} as treated_median,
        {{ percentile_cont('case when not is_treated then received_to_on_scene_minutes end', 0.5) }}
            as comparison_median,
        max(admitted_at) as admitted_through
    from responses
    {{ in_program_touched_months('responses') }}
    group by program, call_month, call_month >= start_month
)

select
    program,
    'calls_reaching_police' as outcome,
    'calls' as counted,
    call_month,
    is_post,
    treated_calls as treated_count,
    comparison_calls as comparison_count,
    cast(treated_calls as {{ type_double() }}) as treated_value,
    cast(comparison_calls as {{ type_double() }}) as comparison_value,
    admitted_through
from call_months

union all

select
    program,
    'officer_hours' as outcome,
    'calls' as counted,
    call_month,
    is_post,
    treated_calls as treated_count,
    comparison_calls as comparison_count,
    treated_hours as treated_value,
    comparison_hours as comparison_value,
    admitted_through
from call_months

union all

select
    program,
    'repeat_calls_within_30_days' as outcome,
    'repeat calls' as counted,
    call_month,
    is_post,
    treated_repeats as treated_count,
    comparison_repeats as comparison_count,
    cast(treated_repeats as {{ type_double() }}) as treated_value,
    cast(comparison_repeats as {{ type_double() }}) as comparison_value,
    admitted_through
from call_months

union all

select
    program,
    'median_response_minutes' as outcome,
    'calls from the public with a measured response time' as counted,
    call_month,
    is_post,
    treated_calls as treated_count,
    comparison_calls as comparison_count,
    treated_median as treated_value,
    comparison_median as comparison_value,
    admitted_through
from response_months
