{#- 1 for the latest landed version of each id of a source profile (later batch, then later row). -#}
{% macro latest_version_rank(id_column) -%}
    row_number() over (
        partition by _source_profile, {{ id_column }}
        order by _loaded_at desc, _batch_id desc, _row_number desc
    )
{%- endmacro %}

{#- CTEs `versions`, `landed_once`, `landed_again` and `source`: the raw rows (those loaded since the
    last build, for an incremental model), one per id of a source profile, the latest landing
    winning. Most ids are landed once and pass straight through; only ids landed more than once are
    ranked (a window over every row of ten million calls costs half the staging build). The raw
    relation is read in each CTE rather than through a shared one, which engines would materialise
    with every column of it (the row as received included). -#}
{% macro latest_versions(relation, id_column) -%}
versions as (
    select
        _source_profile,
        {{ id_column }},
        count(*) as landed_versions
    from {{ relation }}
    {{ loaded_since_last_build('_loaded_at') }}
    group by _source_profile, {{ id_column }}
),

landed_once as (
    select
        loaded.*,
        1 as version_rank
    from {{ relation }} as loaded
    inner join versions
        on
            loaded._source_profile = versions._source_profile
            and loaded.{{ id_column }} = versions.{{ id_column }}
    where
        versions.landed_versions = 1
        {{ and_loaded_since_last_build('loaded._loaded_at') }}
),

landed_again as (
    select loaded.*
    from {{ relation }} as loaded
    inner join versions
        on
            loaded._source_profile = versions._source_profile
            and loaded.{{ id_column }} = versions.{{ id_column }}
    where
        versions.landed_versions > 1
        {{ and_loaded_since_last_build('loaded._loaded_at') }}
),

source as (
    select * from landed_once
    union all
    select ranked.* from (
        select
            landed_again.*,
            {{ latest_version_rank(id_column) }} as version_rank
        from landed_again
    ) as ranked
    where ranked.version_rank = 1
)
{%- endmacro %}
