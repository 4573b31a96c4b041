{#-
    Did a program work? For each program of seeds/program_evaluations.csv, outcomes in the
    districts it runs in are compared with the city's other districts, before and after its start
    month, by difference-in-differences.
    Monthly outcomes (int_program_monthly_outcomes: calls reaching police, officer hours, repeat
    calls at the same address within 30 days, median response time) on the monthly log ratio
    treated / comparison:
        estimate = mean over post months of ln(T/C) - mean over pre months of ln(T/C)
    with a t interval from the months' own spread (so month-to-month noise beyond Poisson widens
    it); effect_ratio = exp(estimate) is the change in the treated districts relative to the
    comparison (0.6: 40 % fewer). Before any verdict: enough months and counts in each arm and
    period, and parallel pre-trends (the slope of the pre months' log ratio, tested at 95 %). A
    month with nothing in either arm is left out.
    Trust in the police (the survey), where a wave ends before the start and another begins after
    it: the change of the weighted mean from the last wave before to the first wave after, treated
    minus comparison, in points of the 1-5 scale, with a normal interval from each cell's
    weighted variance over its Kish effective sample size. Each cell needs
    min_survey_respondents answers.
-#}
with programs as (
    select * from {{ ref('program_evaluations') }}
),

outcomes as (
    select
        *,
        case
            when treated_value > 0 and comparison_value > 0 then ln(treated_value / comparison_value)
        end as log_ratio
    from {{ ref('int_program_monthly_outcomes') }}
),

first_month as (
    select min(call_month) as first_call_month from outcomes
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
        counted,
        sum(case when not is_post then 1 else 0 end) as months_pre,
        sum(case when is_post then 1 else 0 end) as months_post,
        sum(case when not is_post then treated_count else 0 end) as treated_count_pre,
        sum(case when is_post then treated_count else 0 end) as treated_count_post,
        sum(case when not is_post then comparison_count else 0 end) as comparison_count_pre,
        sum(case when is_post then comparison_count else 0 end) as comparison_count_post,
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
    group by program, outcome, counted
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
        estimate - t_critical * standard_error as estimate_low,
        estimate + t_critical * standard_error as estimate_high,
        abs(pre_trend_t) > pre_trend_t_critical as pre_trends_differ
    from judged
),

monthly_results as (
    select
        bounded.program,
        bounded.outcome,
        bounded.counted,
        'ratio' as effect_scale,
        bounded.months_pre,
        bounded.months_post,
        bounded.treated_count_pre,
        bounded.treated_count_post,
        bounded.comparison_count_pre,
        bounded.comparison_count_post,
        bounded.estimate,
        bounded.estimate_low,
        bounded.estimate_high,
        bounded.standard_error,
        bounded.degrees_of_freedom,
        exp(bounded.estimate) as effect_ratio,
        exp(bounded.estimate_low) as effect_ratio_low,
        exp(bounded.estimate_high) as effect_ratio_high,
        bounded.pre_trend_t,
        coalesce(bounded.pre_trends_differ, false) as pre_trends_differ,
        case
            when
                bounded.months_pre < 3 or bounded.months_post < 2
                or least(
                    bounded.treated_count_pre, bounded.treated_count_post,
                    bounded.comparison_count_pre, bounded.comparison_count_post
                ) < 30
                then
                    'too weak to conclude: too few months or counts '
                    || '(at least 3 months before, 2 after, 30 counted in each)'
            when bounded.pre_trends_differ
                then
                    'too weak to conclude: before the start the treated and comparison districts '
                    || 'were not moving together'
            when bounded.estimate_high < 0 then 'fell relative to the comparison districts'
            when bounded.estimate_low > 0 then 'rose relative to the comparison districts'
            else 'no change the data can tell from the comparison districts'
        end as verdict
    from bounded
),

trust_results as (
    select * from {{ ref('int_program_trust_change') }}
),

results as (
    select * from monthly_results
    union all
    select * from trust_results
)

select
    results.program,
    programs.city,
    programs.service_categories,
    programs.treated_districts,
    programs.start_month,
    results.outcome,
    results.counted,
    results.effect_scale,
    results.months_pre,
    results.months_post,
    results.treated_count_pre,
    results.treated_count_post,
    results.comparison_count_pre,
    results.comparison_count_post,
    results.estimate,
    results.estimate_low,
    results.estimate_high,
    results.standard_error,
    results.degrees_of_freedom,
    results.effect_ratio,
    results.effect_ratio_low,
    results.effect_ratio_high,
    results.pre_trend_t,
    results.pre_trends_differ,
    results.verdict
from results
inner join programs
    on results.program = programs.program
