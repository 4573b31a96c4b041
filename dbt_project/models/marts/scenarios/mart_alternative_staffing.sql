{#-
    How many of a scenario's responders (teams) must be on duty in each hour of the week to
    answer its moved calls in time, per city (source profile): an M/M/c queue per hour of the week
    (Erlang C, macros/queueing.sql). Arrivals are the moved calls of that hour of the week divided
    by the weeks the city's calls cover; the time a team spends on a call is the mean responder
    time on the scenario's moved calls (the officer's time on them times the responder's
    minutes_factor; measured where the city's extract has times, the category default otherwise:
    service_time_method says which). The staffing is the fewest teams for which the scenario's
    target share of calls is answered within its target wait. Hours with no moved call need none.
-#}
{%- set max_teams = 400 -%}
with scenario_calls as (
    select * from {{ ref('int_scenario_calls') }}
    where scenario_outcome = 'moved'
),

scenarios as (
    select * from {{ ref('alternative_response_scenarios') }}
),

costs as (
    select * from {{ ref('cost_assumptions') }}
),

coverage as (
    select
        source_profile,
        cast(count(distinct cast(received_at_local as date)) as {{ type_double() }}) / 7 as weeks_observed
    from {{ ref('fct_calls_for_service') }}
    group by source_profile
),

service as (
    select
        source_profile,
        scenario,
        count(*) as calls_moved,
        avg(responder_minutes) as mean_service_minutes,
        {{ fraction("count(case when time_on_call_method = 'measured' then 1 end)", 'count(*)') }} as share_measured
    from scenario_calls
    group by source_profile, scenario
),

hours_of_week as (
    select generated_number - 1 as hour_of_week
    from ({{ integer_series(168) }}) as series
),

arrivals as (
    select
        source_profile,
        scenario,
        hour_of_week,
        count(*) as calls_moved
    from scenario_calls
    group by source_profile, scenario, hour_of_week
),

grid as (
    select
        service.source_profile,
        service.scenario,
        scenarios.responder,
        scenarios.target_wait_minutes,
        scenarios.target_share_answered,
        costs.staff_per_response,
        costs.hourly_cost,
        hours_of_week.hour_of_week,
        coverage.weeks_observed,
        service.mean_service_minutes,
        service.share_measured,
        coalesce(arrivals.calls_moved, 0) as calls_moved,
        coalesce(arrivals.calls_moved, 0) / coverage.weeks_observed as arrivals_per_hour,
        service.mean_service_minutes / 60.0 as hours_per_call
    from service
    inner join scenarios on service.scenario = scenarios.scenario
    inner join costs on scenarios.responder = costs.responder
    inner join coverage on service.source_profile = coverage.source_profile
    cross join hours_of_week
    left join arrivals
        on
            service.source_profile = arrivals.source_profile
            and service.scenario = arrivals.scenario
            and hours_of_week.hour_of_week = arrivals.hour_of_week
),

loaded as (
    select
        *,
        arrivals_per_hour * hours_per_call as offered_load
    from grid
),

teams as (
    select generated_number as teams
    from ({{ integer_series(max_teams) }}) as series
),

-- ln k! as a running sum of ln j, and the Poisson term a^k / k! for every team count k
terms as (
    select
        loaded.source_profile,
        loaded.scenario,
        loaded.hour_of_week,
        loaded.offered_load,
        loaded.arrivals_per_hour,
        loaded.hours_per_call,
        loaded.target_wait_minutes,
        loaded.target_share_answered,
        teams.teams,
        sum(ln(teams.teams)) over (
            partition by loaded.source_profile, loaded.scenario, loaded.hour_of_week
            order by teams.teams rows between unbounded preceding and current row
        ) as ln_factorial
    from loaded
    cross join teams
    -- the teams needed lie within a few standard deviations of the load (square-root staffing)
    where loaded.offered_load > 0 and teams.teams <= loaded.offered_load + 10 * sqrt(loaded.offered_load) + 20
),

poisson as (
    select
        *,
        -- a term below e^-700 is 0 (PostgreSQL raises an underflow rather than round it)
        case
            when teams * ln(offered_load) - ln_factorial < -700 then 0.0
            else exp(teams * ln(offered_load) - ln_factorial)
        end as poisson_term
    from terms
),

cumulative as (
    select
        *,
        1 + sum(poisson_term) over (
            partition by source_profile, scenario, hour_of_week
            order by teams rows between unbounded preceding and current row
        ) as poisson_sum
    from poisson
),

erlang_b as (
    select
        *,
        poisson_term / poisson_sum as blocking
    from cumulative
),

erlang_c as (
    select
        *,
        {{ erlang_c('blocking', 'teams', 'offered_load') }} as p_wait
    from erlang_b
),

judged as (
    select
        *,
        {{ share_answered_within(
            'p_wait', 'teams', 'arrivals_per_hour', 'hours_per_call', 'target_wait_minutes / 60.0'
        ) }} as share_answered_in_time
    from erlang_c
),

fewest as (
    select
        source_profile,
        scenario,
        hour_of_week,
        min(teams) as teams_needed
    from judged
    where share_answered_in_time >= target_share_answered
    group by source_profile, scenario, hour_of_week
),

at_fewest as (
    select judged.*
    from judged
    inner join fewest
        on
            judged.source_profile = fewest.source_profile
            and judged.scenario = fewest.scenario
            and judged.hour_of_week = fewest.hour_of_week
            and judged.teams = fewest.teams_needed
)

select
    loaded.source_profile,
    loaded.scenario,
    loaded.responder,
    loaded.hour_of_week,
    cast(floor(loaded.hour_of_week / 24) as integer) as day_of_week,
    loaded.hour_of_week - 24 * cast(floor(loaded.hour_of_week / 24) as integer) as hour_of_day,
    loaded.weeks_observed,
    loaded.calls_moved,
    loaded.arrivals_per_hour,
    loaded.mean_service_minutes,
    case
        when loaded.share_measured >= 0.5 then 'measured'
        else 'default: the service category''s time (seeds/service_time_defaults.csv)'
    end as service_time_method,
    loaded.offered_load,
    loaded.target_wait_minutes,
    loaded.target_share_answered,
    case when loaded.offered_load > 0 then at_fewest.teams else 0 end as teams_needed,
    at_fewest.p_wait,
    case when loaded.offered_load > 0 then at_fewest.share_answered_in_time end as share_answered_in_time,
    loaded.offered_load / nullif(case when loaded.offered_load > 0 then at_fewest.teams end, 0) as utilisation,
    case when loaded.offered_load > 0 then at_fewest.teams else 0 end * loaded.staff_per_response as staff_on_duty,
    case when loaded.offered_load > 0 then at_fewest.teams else 0 end * loaded.staff_per_response
    * loaded.hourly_cost as staff_cost_of_the_hour
from loaded
left join at_fewest
    on
        loaded.source_profile = at_fewest.source_profile
        and loaded.scenario = at_fewest.scenario
        and loaded.hour_of_week = at_fewest.hour_of_week
