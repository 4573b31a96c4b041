{#- 1 for the latest landed version of each id of a source profile (later batch, then later row).
    With `unit_column`: the rows of one batch that name a unit are one version together (an extract
    of one row per responding unit), all ranked 1 in the latest batch; rows without a unit are
    ranked one by one as before. -#}
{% macro latest_version_rank(id_column, unit_column=none) -%}
    {%- if unit_column %}
    rank() over (
        partition by _source_profile, {{ id_column }}
        order by
            _loaded_at desc,
            _batch_id desc,
            case when {{ unit_column }} is null then _row_number else 0 end desc
    )
    {%- else %}
    row_number() over (
        partition by _source_profile, {{ id_column }}
        order by _loaded_at desc, _batch_id desc, _row_number desc
    )
    {%- endif %}
{%- endmacro %}

{#- The batches staging may read: those a raw gate passed or an operator released (the batch
    ledger, orchestration/ledger). A batch no gate has judged, or one held, never reaches staging. -#}
{% macro admitted_batches() -%}
    select batch_id, admitted_at from {{ source('raw', 'batch_states') }}
    where admitted_at is not null
{%- endmacro %}

{#- CTEs `admitted`, `changed`, `versions`, `landed_once`, `landed_again`, `latest_again` (the
    latest version of ids landed more than once) and `source`: the raw rows
    of admitted batches, one per id of a source profile, the latest landing winning, with the time
    their batch was admitted (`admitted_at`). An incremental model reads only the ids of batches
    admitted since its last build (a batch released today is read today, whenever it landed), and
    ranks each such id against every admitted version of it, so a late release of an older file
    never replaces a newer version. Most ids are landed once and pass straight through; only ids
    landed more than once are ranked (a window over every row of ten million calls costs half the
    staging build). The raw relation is read in each CTE rather than through a shared one, which
    engines would materialise with every column of it (the row as received included). -#}
{% macro latest_versions(relation, id_column, unit_column=none) -%}
admitted as (
    {{ admitted_batches() }}
),

{%- if is_incremental() %}

changed as (
    select distinct
        loaded._source_profile,
        loaded.{{ id_column }}
    from {{ relation }} as loaded
    inner join admitted on loaded._batch_id = admitted.batch_id
    where {{ admitted_after_last_build('admitted.admitted_at') }}
),
{%- endif %}

versions as (
    select
        loaded._source_profile,
        loaded.{{ id_column }},
        count(*) as landed_versions
    from {{ relation }} as loaded
    inner join admitted on loaded._batch_id = admitted.batch_id
    {%- if is_incremental() %}
    inner join changed
        on
            loaded._source_profile = changed._source_profile
            and loaded.{{ id_column }} = changed.{{ id_column }}
    {%- endif %}
    group by loaded._source_profile, loaded.{{ id_column }}
),

landed_once as (
    select
        loaded.*,
        admitted.admitted_at,
        1 as version_rank
    from {{ relation }} as loaded
    inner join admitted on loaded._batch_id = admitted.batch_id
    inner join versions
        on
            loaded._source_profile = versions._source_profile
            and loaded.{{ id_column }} = versions.{{ id_column }}
    where versions.landed_versions = 1
),

landed_again as (
    select
        loaded.*,
        admitted.admitted_at
    from {{ relation }} as loaded
    inner join admitted on loaded._batch_id = admitted.batch_id
    inner join versions
        on
            loaded._source_profile = versions._source_profile
            and loaded.{{ id_column }} = versions.{{ id_column }}
    where versions.landed_versions > 1
),

latest_again as (
    select ranked.* from (
        select
            landed_again.*,
            {{ latest_version_rank(id_column, unit_column) }} as version_rank
        from landed_again
    ) as ranked
    where ranked.version_rank = 1
),

source as (
    select * from landed_once
    union all
    select * from latest_again
)
{%- endmacro %}
