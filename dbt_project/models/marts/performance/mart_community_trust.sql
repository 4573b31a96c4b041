{#-
    Community survey results per wave x area (beats, plus 'all' for the whole city): weighted
    means of the safety and trust items, sample size, effective sample size and 95 % margins of
    error, and the change from the previous wave. A cell with fewer than min_survey_respondents
    responses publishes no means, margins or count (is_suppressed).
-#}
{%- set items = ['feel_safe_day', 'feel_safe_night', 'trust_police', 'police_treat_fairly'] -%}
{#- group_by lists real columns only: PostgreSQL refuses a constant in GROUP BY -#}
{%- set levels = [
    {'area_id': "coalesce(beat, 'unknown')", 'area_level': "'beat'", 'group_by': ["coalesce(beat, 'unknown')"]},
    {'area_id': "'all'", 'area_level': "'all'", 'group_by': []},
] -%}
with responses as (
    select * from {{ ref('stg_survey_responses') }}
),

cities as (
    select * from {{ ref('city_source_profiles') }}
),

waves as (
    select
        source_profile,
        wave,
        min(responded_on) as wave_start,
        max(responded_on) as wave_end,
        row_number() over (partition by source_profile order by min(responded_on), wave) as wave_number
    from responses
    group by source_profile, wave
),

{% for level in levels %}
    level_{{ loop.index }} as (
        select
            source_profile,
            wave,
            {{ level.area_id }} as area_id,
            {{ level.area_level }} as area_level,
            count(*) as respondents,
            {%- for item in items %}
                sum(case when {{ item }} is not null then weight end) as {{ item }}_weight,
                sum(case when {{ item }} is not null then weight * weight end) as {{ item }}_weight_squared,
                sum(weight * {{ item }}) as {{ item }}_weighted_sum,
                sum(weight * {{ item }} * {{ item }}) as {{ item }}_weighted_squares,
            {%- endfor %}
            sum(weight) as total_weight,
            sum(weight * weight) as total_weight_squared
        from responses
        group by {{ (['source_profile', 'wave'] + level.group_by) | join(', ') }}
    ),

{% endfor %}
unioned as (
    {% for level in levels %}
        select * from level_{{ loop.index }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

estimated as (
    select
        unioned.source_profile,
        unioned.wave,
        unioned.area_id,
        unioned.area_level,
        unioned.respondents,
        unioned.respondents < {{ var('min_survey_respondents') }} as is_suppressed,
        unioned.total_weight * unioned.total_weight / nullif(unioned.total_weight_squared, 0) as effective_sample_size,
        {%- for item in items %}
            unioned.{{ item }}_weighted_sum / nullif(unioned.{{ item }}_weight, 0) as mean_{{ item }},
            -- Kish's effective sample size carries the weights' design effect into the margin
            1.96 * sqrt(
                greatest(
                    unioned.{{ item }}_weighted_squares / nullif(unioned.{{ item }}_weight, 0)
                    - (unioned.{{ item }}_weighted_sum / nullif(unioned.{{ item }}_weight, 0))
                    * (unioned.{{ item }}_weighted_sum / nullif(unioned.{{ item }}_weight, 0)),
                    0
                )
                / nullif(
                    unioned.{{ item }}_weight * unioned.{{ item }}_weight
                    / nullif(unioned.{{ item }}_weight_squared, 0),
                    0
                )
            ) as moe_{{ item }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from unioned
),

published as (
    select
        estimated.source_profile,
        estimated.wave,
        waves.wave_start,
        waves.wave_end,
        estimated.area_id,
        estimated.area_level,
        estimated.is_suppressed,
        case when not estimated.is_suppressed then estimated.respondents end as respondents,
        case when not estimated.is_suppressed then estimated.effective_sample_size end as effective_sample_size,
        {%- for item in items %}
            case when not estimated.is_suppressed then estimated.mean_{{ item }} end as mean_{{ item }},
            case when not estimated.is_suppressed then estimated.moe_{{ item }} end as moe_{{ item }},
        {%- endfor %}
        waves.wave_number
    from estimated
    inner join waves
        on
            estimated.source_profile = waves.source_profile
            and estimated.wave = waves.wave
),

final as (
    select
        -- grain
        published.source_profile,
        coalesce(cities.city, published.source_profile) as city,
        published.wave,
        published.wave_start,
        published.wave_end,
        published.area_id,
        published.area_level,

        -- suppression
        published.is_suppressed,
        case
            when published.is_suppressed
                then 'suppressed: fewer than {{ var("min_survey_respondents") }} respondents'
            else 'published'
        end as publication_status,

        -- sample
        published.respondents,
        published.effective_sample_size,

        -- weighted means (1 = strongly disagree ... 5 = strongly agree) and 95 % margins of error
        {%- for item in items %}
            published.mean_{{ item }},
            published.moe_{{ item }},
        {%- endfor %}

        -- change from the previous wave in the same area (NULL when either wave is suppressed)
        prior_wave.wave as prior_wave,
        {%- for item in items %}
            published.mean_{{ item }} - prior_wave.mean_{{ item }} as change_{{ item }},
        {%- endfor %}
        abs(published.mean_trust_police - prior_wave.mean_trust_police)
        > sqrt(
            published.moe_trust_police * published.moe_trust_police
            + prior_wave.moe_trust_police * prior_wave.moe_trust_police
        ) as trust_change_exceeds_margin
    from published
    left join published as prior_wave
        on
            published.source_profile = prior_wave.source_profile
            and published.area_id = prior_wave.area_id
            and published.wave_number = prior_wave.wave_number + 1
    left join cities
        on published.source_profile = cities.source_profile
),

-- Many beats are tested at once: a beat's change in trust counts as a discovery only under the
-- Benjamini-Hochberg procedure at false discovery rate var('trust_change_false_discovery_rate'),
-- over the beats of the same wave (z = change / its standard error, each wave's from its margin).
tested_z as (
    select
        final.*,
        (final.mean_trust_police - previous.mean_trust_police) / nullif(
            sqrt(power(final.moe_trust_police / 1.959964, 2) + power(previous.moe_trust_police / 1.959964, 2)), 0
        ) as trust_change_z
    from final
    left join final as previous
        on
            final.source_profile = previous.source_profile
            and final.area_id = previous.area_id
            and final.prior_wave = previous.wave
),

tested as (
    select
        tested_z.*,
        {{ two_sided_normal_p('tested_z.trust_change_z') }} as trust_change_p_value
    from tested_z
),

discoveries as (
    {{ benjamini_hochberg(
        'tested', 'trust_change_p_value', ['source_profile', 'wave', 'area_level'], 'area_id',
        var('trust_change_false_discovery_rate'), 'trust_change_is_discovery'
    ) }}
)

select
    discoveries.source_profile,
    discoveries.city,
    discoveries.wave,
    discoveries.wave_start,
    discoveries.wave_end,
    discoveries.area_id,
    discoveries.area_level,
    discoveries.is_suppressed,
    discoveries.publication_status,
    discoveries.respondents,
    discoveries.effective_sample_size,
    {%- for item in items %}
        discoveries.mean_{{ item }},
        discoveries.moe_{{ item }},
    {%- endfor %}
    discoveries.prior_wave,
    {%- for item in items %}
        discoveries.change_{{ item }},
    {%- endfor %}
    discoveries.trust_change_exceeds_margin,
    discoveries.trust_change_p_value,
    discoveries.trust_change_is_discovery
from discoveries
