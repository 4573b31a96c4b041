{#-
    Every call classified through the taxonomy, with its officer time and cost.
    Officer-initiated: the city's own flag where it has one, else inferred from the call type.
    Time on call: dispatch (or the earliest time recorded) to clear; where that is missing or
    unusable, the category's default from service_time_defaults, and the method says so.
-#}
{{
    config(
        materialized=large_fact_materialization(),
        unique_key='call_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

with calls as (
    select * from {{ ref('stg_calls_for_service') }}
    {{ admitted_since_last_build() }}
),

taxonomy as (
    select * from {{ ref('call_type_taxonomy') }}
),

time_defaults as (
    select * from {{ ref('service_time_defaults') }}
),

officer_cost as (
    select hourly_cost from {{ ref('cost_assumptions') }}
    where responder = 'police_officer'
),

alternative_cost as (
    select * from {{ ref('cost_assumptions') }}
    where responder <> 'police_officer'
),

classified as (
    select
        calls.*,
        -- a fire, EMS or other agency's record is classed by its agency, not the police taxonomy
        case
            when calls.agency = 'other' then 'other_agency'
            when calls.agency <> 'police' then calls.agency
            else coalesce(taxonomy.service_category, 'unclassified')
        end as service_category,
        calls.agency <> 'police' or coalesce(taxonomy.service_category not in ('other'), false) as is_classified,
        taxonomy.call_type is not null as is_in_taxonomy,
        taxonomy.is_criminal,
        coalesce(taxonomy.alternative_responder, 'none') as alternative_responder,
        coalesce(calls.officer_initiated_flag, taxonomy.is_officer_initiated, false) as is_officer_initiated,
        case
            when calls.officer_initiated_flag is not null then 'city_flag'
            when taxonomy.is_officer_initiated is not null then 'call_type'
            else 'unknown'
        end as officer_initiated_method,
        coalesce(calls.dispatched_at_utc, calls.enroute_at_utc, calls.arrived_at_utc, calls.received_at_utc)
            as work_started_at_utc
    from calls
    left join taxonomy
        on
            calls.source_profile = taxonomy.source_profile
            and calls.call_type = taxonomy.call_type
),

timed as (
    select
        classified.*,
        {{ minutes_between('classified.work_started_at_utc', 'classified.cleared_at_utc') }} as measured_minutes,
        time_defaults.default_minutes_on_call,
        time_defaults.default_units
    from classified
    left join time_defaults
        on classified.service_category = time_defaults.service_category
),

with_method as (
    select
        *,
        case
            when cleared_at_utc is null then 'default: no clear time'
            when arrived_at_utc is not null and cleared_at_utc < arrived_at_utc then 'default: cleared before arrival'
            when measured_minutes < 0 then 'default: cleared before dispatch'
            when measured_minutes > {{ var('max_plausible_minutes_on_call') }} then 'default: implausibly long'
            else 'measured'
        end as time_on_call_method,
        case when units_assigned > 0 then units_assigned else default_units end as units_on_call
    from timed
),

costed as (
    select
        with_method.*,
        case
            when time_on_call_method = 'measured' then measured_minutes
            else default_minutes_on_call
        end as time_on_call_minutes
    from with_method
),

final as (
    select
        -- ids
        costed.call_key,
        costed.call_id,
        costed.source_profile,

        -- classification
        costed.call_type,
        costed.initial_call_type,
        costed.service_category,
        costed.is_classified,
        -- a unit's status (return to station, out of service): not a call; the marts leave it out
        costed.service_category = 'unit_status' as is_unit_status,
        -- police, fire, ems or other: only police calls enter the police marts and costs
        costed.agency,
        costed.agency = 'police' and costed.service_category <> 'unit_status' as is_police_call,
        costed.is_in_taxonomy,
        costed.is_criminal,
        costed.alternative_responder,
        costed.alternative_responder <> 'none' as is_alternative_eligible,
        costed.is_officer_initiated,
        costed.officer_initiated_method,
        coalesce(
            costed.call_source, case when costed.is_officer_initiated then 'officer-initiated' else 'unknown' end
        ) as call_source,
        costed.priority,
        costed.disposition,

        -- place
        costed.beat,
        costed.district,
        coalesce(costed.beat, costed.district, 'unknown') as area_id,
        case
            when costed.beat is not null then 'beat'
            when costed.district is not null then 'district'
            else 'none'
        end as area_level,
        costed.block_address,
        costed.latitude,
        costed.longitude,

        -- time
        costed.received_at_utc,
        costed.dispatched_at_utc,
        costed.arrived_at_utc,
        costed.cleared_at_utc,
        costed.received_at_local,
        {{ month_start('costed.received_at_local') }} as call_month,
        {{ hour_of_week('costed.received_at_local') }} as hour_of_week,

        -- officer time and cost
        costed.time_on_call_minutes,
        costed.time_on_call_method,
        costed.units_on_call,
        costed.time_on_call_minutes * costed.units_on_call / 60.0 as officer_hours,
        costed.time_on_call_minutes * costed.units_on_call / 60.0 * officer_cost.hourly_cost as estimated_cost,
        costed.time_on_call_minutes * alternative_cost.minutes_factor / 60.0
        * alternative_cost.staff_per_response * alternative_cost.hourly_cost as alternative_cost,

        -- lineage
        costed.batch_id,
        costed.source_file,
        costed.source_row_number,
        costed.loaded_at,
        costed.admitted_at
    from costed
    cross join officer_cost
    left join alternative_cost
        on costed.alternative_responder = alternative_cost.responder
)

select * from final
