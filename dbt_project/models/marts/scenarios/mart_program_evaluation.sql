{#-
    Did a program work? For each program of seeds/program_evaluations.csv, its calls (the service
    categories it takes over, from the public) in the districts it runs in are compared with the
    same calls in the city's other districts, before and after its start month, by
    difference-in-differences on the monthly log ratio treated / comparison:
        estimate = mean over post months of ln(T/C) - mean over pre months of ln(T/C)
    with a t interval from the months' own spread (so month-to-month noise beyond Poisson widens
    it); effect_ratio = exp(estimate) is the change in the treated districts' calls relative to
    the comparison (0.6: 40 % fewer). The same for the officer hours on those calls. Before any
    verdict: enough calls in each arm and period, and parallel pre-trends (the slope of the pre
    months' log ratio, tested at 95 %). A month with no call in either arm is left out.
-#}
with programs as (
    select * from {{ ref('program_evaluations') }}
),

cities as (
    select * from {{ ref('city_source_profiles') }}
),

calls as (
    select
        coalesce(cities.city, calls.source_profile) as city,
        calls.district,
        calls.service_category,
        calls.call_month,
        calls.officer_hours
    from {{ ref('fct_calls_for_service') }} as calls
    left join cities
        on calls.source_profile = cities.source_profile
    where not calls.is_officer_initiated and calls.district is not null
),

program_calls as (
    select
        programs.program,
        programs.start_month,
        calls.call_month,
        calls.officer_hours,
        '|' || programs.treated_districts || '|' like '%|' || calls.district || '|%' as is_treated
    from calls
    inner join programs
        on
            calls.city = programs.city
            and '|' || programs.service_categories || '|' like '%|' || calls.service_category || '|%'
),

monthly as (
    select
        program,
        call_month,
        call_month >= start_month as is_post,
        sum(case when is_treated then 1 else 0 end) as treated_calls,
        sum(case when is_treated then 0 else 1 end) as comparison_calls,
        sum(case when is_treated then officer_hours else 0 end) as treated_hours,
        sum(case when is_treated then 0 else officer_hours end) as comparison_hours
    from program_calls
    group by program, call_month, call_month >= start_month
),

outcomes as (
    select
        program,
        'calls_reaching_police' as outcome,
        call_month,
        is_post,
        treated_calls,
        comparison_calls,
        case when treated_calls > 0 and comparison_calls > 0 then ln(treated_calls * 1.0 / comparison_calls) end
            as log_ratio
    from monthly

    union all

    select
        program,
        'officer_hours' as outcome,
        call_month,
        is_post,
        treated_calls,
        comparison_calls,
        case when treated_hours > 0 and comparison_hours > 0 then ln(treated_hours / comparison_hours) end
            as log_ratio
    from monthly
),

first_month as (
    select min(call_month) as first_call_month from monthly
),

indexed as (
    select
        outcomes.*,
        (extract(year from outcomes.call_month) - extract(year from first_month.first_call_month)) * 12
        + extract(month from outcomes.call_month) - extract(month from first_month.first_call_month) as month_index
    from outcomes
    cross join first_month
    where outcomes.log_ratio is not null
),

periods as (
    select
        program,
        outcome,
        sum(case when not is_post then 1 else 0 end) as months_pre,
        sum(case when is_post then 1 else 0 end) as months_post,
        sum(case when not is_post then treated_calls else 0 end) as treated_calls_pre,
        sum(case when is_post then treated_calls else 0 end) as treated_calls_post,
        sum(case when not is_post then comparison_calls else 0 end) as comparison_calls_pre,
        sum(case when is_post then comparison_calls else 0 end) as comparison_calls_post,
        avg(case when not is_post then log_ratio end) as mean_pre,
        avg(case when is_post then log_ratio end) as mean_post,
        var_samp(case when not is_post then log_ratio end) as var_pre,
        var_samp(case when is_post then log_ratio end) as var_post,
        regr_slope(case when not is_post then log_ratio end, case when not is_post then month_index end)
            as pre_slope,
        regr_sxx(case when not is_post then log_ratio end, case when not is_post then month_index end) as pre_sxx,
        regr_syy(case when not is_post then log_ratio end, case when not is_post then month_index end) as pre_syy,
        regr_sxy(case when not is_post then log_ratio end, case when not is_post then month_index end) as pre_sxy
    from indexed
    group by program, outcome
),

estimated as (
    select
        *,
        mean_post - mean_pre as estimate,
        sqrt(var_pre / months_pre + var_post / months_post) as standard_error,
        months_pre + months_post - 2 as degrees_of_freedom,
        case
            when months_pre > 2 and pre_sxx > 0
                then pre_slope / nullif(
                    sqrt(greatest(pre_syy - pre_sxy * pre_sxy / pre_sxx, 0) / (months_pre - 2) / pre_sxx), 0
                )
        end as pre_trend_t
    from periods
),

judged as (
    select
        *,
        {{ t_critical_975('degrees_of_freedom') }} as t_critical,
        {{ t_critical_975('months_pre - 2') }} as pre_trend_t_critical
    from estimated
),

bounded as (
    select
        *,
        exp(estimate) as effect_ratio,
        exp(estimate - t_critical * standard_error) as effect_ratio_low,
        exp(estimate + t_critical * standard_error) as effect_ratio_high,
        abs(pre_trend_t) > pre_trend_t_critical as pre_trends_differ
    from judged
)

select
    bounded.program,
    programs.city,
    programs.service_categories,
    programs.treated_districts,
    programs.start_month,
    bounded.outcome,
    bounded.months_pre,
    bounded.months_post,
    bounded.treated_calls_pre,
    bounded.treated_calls_post,
    bounded.comparison_calls_pre,
    bounded.comparison_calls_post,
    bounded.estimate,
    bounded.standard_error,
    bounded.degrees_of_freedom,
    bounded.effect_ratio,
    bounded.effect_ratio_low,
    bounded.effect_ratio_high,
    bounded.pre_trend_t,
    coalesce(bounded.pre_trends_differ, false) as pre_trends_differ,
    case
        when
            bounded.months_pre < 3 or bounded.months_post < 2
            or least(
                bounded.treated_calls_pre, bounded.treated_calls_post,
                bounded.comparison_calls_pre, bounded.comparison_calls_post
            ) < 30
            then 'too weak to conclude: too few months or calls (at least 3 months before, 2 after, 30 calls in each)'
        when bounded.pre_trends_differ
            then 'too weak to conclude: before the start the treated and comparison districts were not moving together'
        when bounded.effect_ratio_high < 1 then 'fell relative to the comparison districts'
        when bounded.effect_ratio_low > 1 then 'rose relative to the comparison districts'
        else 'no change the data can tell from the comparison districts'
    end as verdict
from bounded
inner join programs
    on bounded.program = programs.program
