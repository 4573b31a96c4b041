{#-
    What if a city moved a group of calls to an alternative responder: per city (source profile),
    scenario and month, the calls moved and kept, the officer hours they took, and their cost at
    the police rate and at the responder's. The cost here is per call handled; what it costs to
    keep teams on duty is in mart_alternative_staffing.
-#}
with scenario_calls as (
    select * from {{ ref('int_scenario_calls') }}
),

scenarios as (
    select * from {{ ref('alternative_response_scenarios') }}
),

police as (
    select
        source_profile,
        call_month,
        count(*) as police_calls,
        sum(case when is_officer_initiated then 0 else 1 end) as calls_from_public,
        sum(officer_hours) as officer_hours
    from {{ ref('fct_calls_for_service') }}
    group by source_profile, call_month
),

per_scenario as (
    select
        police.source_profile,
        police.call_month,
        police.police_calls,
        police.calls_from_public,
        police.officer_hours,
        scenarios.scenario,
        scenarios.responder
    from police
    cross join scenarios
),

moved as (
    select
        source_profile,
        scenario,
        call_month,
        count(*) as eligible_calls,
        sum(case when scenario_outcome = 'moved' then 1 else 0 end) as calls_moved,
        -- urgent and arrested calls kept together: a count of arrests is not published on its own
        sum(case when scenario_outcome <> 'moved' then 1 else 0 end) as calls_kept,
        sum(case when scenario_outcome = 'moved' then officer_hours else 0 end) as officer_hours_moved,
        sum(case when scenario_outcome = 'moved' then estimated_cost else 0 end) as police_cost_moved,
        sum(case when scenario_outcome = 'moved' then responder_cost else 0 end) as responder_cost_moved,
        sum(case when scenario_outcome = 'moved' and time_on_call_method = 'measured' then 1 else 0 end)
            as calls_moved_with_measured_time
    from scenario_calls
    group by source_profile, scenario, call_month
),

joined as (
    select
        per_scenario.source_profile,
        per_scenario.scenario,
        per_scenario.responder,
        per_scenario.call_month,
        per_scenario.police_calls,
        per_scenario.calls_from_public,
        per_scenario.officer_hours,
        coalesce(moved.eligible_calls, 0) as eligible_calls,
        coalesce(moved.calls_moved, 0) as calls_moved,
        coalesce(moved.calls_kept, 0) as calls_kept,
        coalesce(moved.officer_hours_moved, 0) as officer_hours_moved,
        coalesce(moved.police_cost_moved, 0) as police_cost_moved,
        coalesce(moved.responder_cost_moved, 0) as responder_cost_moved,
        coalesce(moved.calls_moved_with_measured_time, 0) as calls_moved_with_measured_time
    from per_scenario
    left join moved
        on
            per_scenario.source_profile = moved.source_profile
            and per_scenario.scenario = moved.scenario
            and per_scenario.call_month = moved.call_month
)

select
    *,
    {{ fraction('calls_moved', 'calls_from_public') }} as share_of_public_calls_moved,
    {{ wilson_low('calls_moved', 'calls_from_public') }} as share_of_public_calls_moved_low,
    {{ wilson_high('calls_moved', 'calls_from_public') }} as share_of_public_calls_moved_high,
    officer_hours_moved / nullif(officer_hours, 0) as share_of_officer_hours_freed,
    responder_cost_moved - police_cost_moved as cost_change_per_call_handled,
    {{ fraction('calls_moved_with_measured_time', 'calls_moved') }} as share_moved_with_measured_time
from joined
