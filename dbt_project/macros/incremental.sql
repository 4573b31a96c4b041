{#-
    Incremental builds of the large facts (calls, incidents, stops, requests and what is built
    row by row from them). A run reads only the raw rows of batches admitted since the last build
    (by the time a gate passed or an operator released the batch, so a late-arriving record for
    an old day, or a file released days after it landed, is picked up like any other) and replaces
    rows by key (delete+insert), so a corrected record (the same id landed again with new
    values) replaces the earlier version. `dbt build --full-refresh` rebuilds from all of raw;
    the Dagster job does that by itself when a reference seed (taxonomy, costs) has changed.
    Spark builds them as tables: its parquet tables have no delete.
-#}
{% macro large_fact_materialization() -%}
    {{ return('table' if target.type == 'spark' else 'incremental') }}
{%- endmacro %}

{#- A WHERE clause keeping the rows admitted after the newest admission already built. Empty on a
    full build. Strictly after is exact: the ledger gives every admission a time later than any
    event before it (orchestration/ledger/store.py), so a batch admitted after a build is later than
    everything that build read, and the newest batches it read are not read again. -#}
{% macro admitted_since_last_build(admitted_at_column='admitted_at', built_column='admitted_at') -%}
    {%- if is_incremental() %}
        where {{ admitted_after_last_build(admitted_at_column, built_column) }}
    {%- endif %}
{%- endmacro %}

{#- The one predicate every incremental read shares: admitted strictly after the newest admission
    the model already holds (its watermark; 1900 when it holds none). -#}
{% macro admitted_after_last_build(admitted_at_column, built_column='admitted_at') -%}
    {{ admitted_at_column }} > (
        select coalesce(max({{ built_column }}), cast('1900-01-01' as timestamp)) from {{ this }}
    )
{%- endmacro %}

{#- Month marts (one source profile x month per key) rebuild only the months a new load touched:
    the month of every version of every id in the batches admitted since the mart's last build, so
    a correction that moves a record to another month rebuilds both months. Pairs (source_profile,
    month); none on a full build (nothing is filtered then). -#}
{% macro months_touched_since_last_build(raw_table, id_column, time_column, built_column='admitted_through') -%}
    {%- if not is_incremental() %}
    select cast(null as {{ dbt.type_string() }}) as source_profile, cast(null as date) as touched_month
    where 1 = 0
    {%- else %}
    select distinct
        versions._source_profile as source_profile,
        {{ month_start(utc_to_local('cast(versions.' ~ time_column ~ ' as timestamp)', 'versions._timezone')) }}
            as touched_month
    from {{ source('raw', raw_table) }} as versions
    inner join (
        select distinct loaded._source_profile, loaded.{{ id_column }}
        from {{ source('raw', raw_table) }} as loaded
        inner join ({{ admitted_batches() }}) as admitted on loaded._batch_id = admitted.batch_id
        where {{ admitted_after_last_build('admitted.admitted_at', built_column) }}
    ) as changed
        on versions._source_profile = changed._source_profile and versions.{{ id_column }} = changed.{{ id_column }}
    {%- endif %}
{%- endmacro %}

{#- Join keeping the rows of the touched months only (on an incremental build; nothing otherwise). -#}
{% macro in_touched_months(relation_alias, month_column, touched_cte='touched') -%}
    {%- if is_incremental() %}
    inner join {{ touched_cte }}
        on
            {{ relation_alias }}.source_profile = {{ touched_cte }}.source_profile
            and {{ relation_alias }}.{{ month_column }} = {{ touched_cte }}.touched_month
    {%- endif %}
{%- endmacro %}

{#- Join keeping a program's rows of the months it recomputes (the CTE `touched`: touched_program,
    touched_month) on an incremental build; nothing otherwise. -#}
{% macro in_program_touched_months(relation_alias, touched_cte='touched') -%}
    {%- if is_incremental() %}
    inner join {{ touched_cte }}
        on
            {{ relation_alias }}.program = {{ touched_cte }}.touched_program
            and {{ relation_alias }}.call_month = {{ touched_cte }}.touched_month
    {%- endif %}
{%- endmacro %}
