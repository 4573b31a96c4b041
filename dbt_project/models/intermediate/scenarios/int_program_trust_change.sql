{#-
    Trust in the police (the survey's trust_police item, 1-5) around a program's start
    (seeds/program_evaluations.csv): the last wave that ends before its start month and the first
    that begins on or after it, in the districts it runs in (treated) and the city's other
    districts (comparison). The estimate is the difference in differences of the weighted means,
        (treated after - treated before) - (comparison after - comparison before),
    in points of the scale, with a normal 95 % interval: each cell's variance of the mean is its
    weighted variance over its Kish effective sample size (sum w)^2 / sum w^2. The same columns as
    the monthly outcomes of mart_program_evaluation; a city without waves on both sides has no row.
-#}
with programs as (
    select * from {{ ref('program_evaluations') }}
),

cities as (
    select * from {{ ref('city_source_profiles') }}
),

areas as (
    select
        coalesce(cities.city, areas.source_profile) as city,
        areas.beat,
        areas.district
    from {{ ref('stg_areas') }} as areas
    left join cities
        on areas.source_profile = cities.source_profile
),

responses as (
    select
        coalesce(cities.city, responses.source_profile) as city,
        responses.wave,
        responses.beat,
        responses.responded_on,
        responses.trust_police,
        responses.weight
    from {{ ref('stg_survey_responses') }} as responses
    left join cities
        on responses.source_profile = cities.source_profile
    where responses.trust_police is not null
),

waves as (
    select
        city,
        wave,
        min(responded_on) as wave_start,
        max(responded_on) as wave_end
    from responses
    group by city, wave
),

program_waves as (
    select
        programs.program,
        max(case when waves.wave_end < programs.start_month then waves.wave_end end) as before_end,
        min(case when waves.wave_start >= programs.start_month then waves.wave_start end) as after_start
    from programs
    inner join waves
        on programs.city = waves.city
    group by programs.program
),

answers as (
    select
        programs.program,
        waves.wave_start = program_waves.after_start as is_post,
        '|' || programs.treated_districts || '|' like '%|' || areas.district || '|%' as is_treated,
        responses.trust_police,
        responses.weight
    from responses
    inner join waves
        on responses.city = waves.city and responses.wave = waves.wave
    inner join programs
        on responses.city = programs.city
    inner join program_waves
        on
            programs.program = program_waves.program
            and (waves.wave_end = program_waves.before_end or waves.wave_start = program_waves.after_start)
    inner join areas
        on responses.city = areas.city and responses.beat = areas.beat
),

cells as (
    select
        program,
        is_treated,
        is_post,
        count(*) as respondents,
        sum(weight * trust_police) / sum(weight) as mean_trust,
        -- weighted variance of the answers over the Kish effective sample size
        (sum(weight * trust_police * trust_police) / sum(weight) - power(sum(weight * trust_police) / sum(weight), 2))
        / (power(sum(weight), 2) / sum(weight * weight)) as variance_of_mean
    from answers
    group by program, is_treated, is_post
),

pivoted as (
    select
        program,
        max(case when is_treated and not is_post then respondents end) as treated_count_pre,
        max(case when is_treated and is_post then respondents end) as treated_count_post,
        max(case when not is_treated and not is_post then respondents end) as comparison_count_pre,
        max(case when not is_treated and is_post then respondents end) as comparison_count_post,
        sum(case when is_treated = is_post then mean_trust else -mean_trust end) as estimate,
        sqrt(sum(variance_of_mean)) as standard_error,
        count(*) as cells
    from cells
    group by program
),

bounded as (
    select
        *,
        estimate - 1.959964 * standard_error as estimate_low,
        estimate + 1.959964 * standard_error as estimate_high
    from pivoted
    where cells = 4
)

select
    program,
    'trust_police' as outcome,
    'survey respondents' as counted,
    'points on the 1-5 scale' as effect_scale,
    1 as months_pre,
    1 as months_post,
    treated_count_pre,
    treated_count_post,
    comparison_count_pre,
    comparison_count_post,
    estimate,
    estimate_low,
    estimate_high,
    standard_error,
    cast(null as {{ type_double() }}) as degrees_of_freedom,
    cast(null as {{ type_double() }}) as effect_ratio,
    cast(null as {{ type_double() }}) as effect_ratio_low,
    cast(null as {{ type_double() }}) as effect_ratio_high,
    cast(null as {{ type_double() }}) as pre_trend_t,
    false as pre_trends_differ,
    case
        when
            least(treated_count_pre, treated_count_post, comparison_count_pre, comparison_count_post)
            < {{ var('min_survey_respondents') }}
            then
                'too weak to conclude: fewer than {{ var("min_survey_respondents") }} respondents '
                || 'in an arm before or after'
        when estimate_high < 0 then 'fell relative to the comparison districts'
        when estimate_low > 0 then 'rose relative to the comparison districts'
        else 'no change the data can tell from the comparison districts'
    end as verdict
from bounded
