{#-
    Budget and program performance per fiscal year x program, with a row per service area
    (program 'all') and one for all public safety (service area 'all'). Calls served and
    officer hours come from the city's calls for service in the fiscal year and are attributed
    to the police service area as a whole (CAD calls do not say which police program served them).
-#}
{%- set alternatives = "('alternative_response', 'community_programs')" -%}
with budget as (
    select * from {{ ref('stg_budget') }}
),

cities as (
    select * from {{ ref('city_source_profiles') }}
),

budget_lines as (
    select
        budget.source_profile,
        coalesce(cities.city, budget.source_profile) as city,
        budget.fiscal_year,
        budget.service_area,
        budget.department,
        budget.program,
        budget.budgeted,
        budget.actual,
        budget.fte
    from budget
    left join cities
        on budget.source_profile = cities.source_profile
),

calls as (
    select
        coalesce(cities.city, calls.source_profile) as city,
        {{ fiscal_year_of('calls.call_month') }} as fiscal_year,
        count(*) as calls_served,
        sum(case when calls.is_officer_initiated then 0 else 1 end) as community_calls_served,
        sum(calls.officer_hours) as officer_hours,
        count(distinct cast(calls.received_at_local as date)) as days_with_calls
    from {{ ref('int_calls_classified') }} as calls
    left join cities
        on calls.source_profile = cities.source_profile
    where calls.is_police_call
    group by coalesce(cities.city, calls.source_profile), {{ fiscal_year_of('calls.call_month') }}
),

programs as (
    select
        source_profile,
        city,
        fiscal_year,
        service_area,
        department,
        program,
        sum(budgeted) as budgeted,
        sum(actual) as actual,
        sum(fte) as fte
    from budget_lines
    group by source_profile, city, fiscal_year, service_area, department, program
),

service_areas as (
    select
        source_profile,
        city,
        fiscal_year,
        service_area,
        'all' as department,
        'all' as program,
        sum(budgeted) as budgeted,
        sum(actual) as actual,
        sum(fte) as fte
    from budget_lines
    group by source_profile, city, fiscal_year, service_area
),

public_safety as (
    select
        source_profile,
        city,
        fiscal_year,
        'all' as service_area,
        'all' as department,
        'all' as program,
        sum(budgeted) as budgeted,
        sum(actual) as actual,
        sum(fte) as fte
    from budget_lines
    group by source_profile, city, fiscal_year
),

fiscal_years as (
    select
        source_profile,
        fiscal_year,
        sum(actual) as total_actual,
        sum(case when service_area in {{ alternatives }} then actual else 0 end) as alternatives_actual,
        sum(budgeted) as total_budgeted,
        sum(case when service_area in {{ alternatives }} then budgeted else 0 end) as alternatives_budgeted
    from budget_lines
    group by source_profile, fiscal_year
),

unioned as (
    select * from programs
    union all
    select * from service_areas
    union all
    select * from public_safety
),

final as (
    select
        -- grain
        unioned.source_profile,
        unioned.city,
        unioned.fiscal_year,
        'FY' || {{ as_text('unioned.fiscal_year') }} as fiscal_year_label,
        unioned.service_area,
        unioned.department,
        unioned.program,
        case
            when unioned.service_area = 'all' then 'public_safety'
            when unioned.program = 'all' then 'service_area'
            else 'program'
        end as row_level,

        -- money and staff
        unioned.budgeted,
        unioned.actual,
        unioned.actual - unioned.budgeted as variance,
        unioned.actual / nullif(unioned.budgeted, 0) as spend_rate,
        unioned.fte,
        unioned.actual / nullif(fiscal_years.total_actual, 0) as share_of_public_safety_actual,
        fiscal_years.alternatives_actual / nullif(fiscal_years.total_actual, 0) as alternatives_share_of_actual,
        fiscal_years.alternatives_budgeted / nullif(fiscal_years.total_budgeted, 0)
            as alternatives_share_of_budgeted,

        -- calls served by police in the fiscal year (police service-area row only)
        case
            when unioned.service_area = 'police' and unioned.program = 'all'
                then {{ suppress_small_count('calls.calls_served') }}
        end as calls_served,
        case
            when unioned.service_area = 'police' and unioned.program = 'all'
                then {{ suppress_small_count('calls.community_calls_served') }}
        end as community_calls_served,
        case
            when unioned.service_area = 'police' and unioned.program = 'all' then calls.officer_hours
        end as officer_hours,
        case
            when
                unioned.service_area = 'police' and unioned.program = 'all'
                and calls.calls_served >= {{ var('min_cell_count') }}
                then unioned.actual / calls.calls_served
        end as cost_per_call,
        case
            when unioned.service_area = 'police' and unioned.program = 'all'
                then unioned.actual / nullif(calls.officer_hours, 0)
        end as cost_per_officer_hour,

        -- spending per call over the days with calls landed: the year's spending times the share of
        -- its days with calls (coverage), over the calls of those days
        case when unioned.service_area = 'police' and unioned.program = 'all' then calls.days_with_calls end
            as days_with_calls,
        case
            when unioned.service_area = 'police' and unioned.program = 'all'
                then {{ fraction('calls.days_with_calls', days_in_fiscal_year('unioned.fiscal_year')) }}
        end as call_coverage,
        case
            when
                unioned.service_area = 'police' and unioned.program = 'all'
                and calls.community_calls_served >= {{ var('min_cell_count') }}
                then
                    unioned.actual * calls.days_with_calls / {{ days_in_fiscal_year('unioned.fiscal_year') }}
                    / calls.community_calls_served
        end as cost_per_call_from_public,
        case
            when
                unioned.service_area = 'police' and unioned.program = 'all'
                and calls.calls_served >= {{ var('min_cell_count') }}
                then
                    unioned.actual * calls.days_with_calls / {{ days_in_fiscal_year('unioned.fiscal_year') }}
                    / calls.calls_served
        end as cost_per_cad_event
    from unioned
    inner join fiscal_years
        on
            unioned.source_profile = fiscal_years.source_profile
            and unioned.fiscal_year = fiscal_years.fiscal_year
    left join calls
        on
            unioned.city = calls.city
            and unioned.fiscal_year = calls.fiscal_year
)

select * from final
