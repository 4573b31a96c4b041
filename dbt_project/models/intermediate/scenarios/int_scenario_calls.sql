{#-
    Every police call from the public that a scenario's responder could take, once per scenario,
    with what the scenario's rule does with it (seeds/alternative_response_scenarios.csv):
    'moved', or kept with police because its priority is one the scenario keeps (a co-response)
    or because it ended in an arrest (the call escalated). The responder's time on a call is the
    officer's time on it times the responder's minutes_factor (cost_assumptions).
-#}
with scenarios as (
    select * from {{ ref('alternative_response_scenarios') }}
),

costs as (
    select * from {{ ref('cost_assumptions') }}
),

calls as (
    select * from {{ ref('fct_calls_for_service') }}
    where not is_officer_initiated
)

select
    calls.source_profile,
    calls.call_key,
    calls.call_month,
    calls.hour_of_week,
    calls.received_at_local,
    calls.priority,
    calls.disposition,
    calls.officer_hours,
    calls.estimated_cost,
    calls.time_on_call_minutes,
    calls.time_on_call_method,
    scenarios.scenario,
    scenarios.responder,
    scenarios.target_wait_minutes,
    scenarios.target_share_answered,
    costs.staff_per_response,
    costs.hourly_cost as responder_hourly_cost,
    calls.time_on_call_minutes * costs.minutes_factor as responder_minutes,
    calls.time_on_call_minutes * costs.minutes_factor / 60.0 * costs.staff_per_response * costs.hourly_cost
        as responder_cost,
    case
        when
            '|' || scenarios.kept_priorities || '|'
            like '%|' || coalesce(cast(calls.priority as {{ dbt.type_string() }}), '') || '|%'
            then 'kept: urgent priority (co-response)'
        when upper(coalesce(calls.disposition, '')) like '%ARREST%' then 'kept: ended in an arrest'
        else 'moved'
    end as scenario_outcome
from calls
inner join scenarios
    on calls.alternative_responder = scenarios.responder
inner join costs
    on scenarios.responder = costs.responder
