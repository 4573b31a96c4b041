{#-
    Data tests on an incremental build judge what the build wrote, not the whole history.

    An incremental model's rows carry when their batch was admitted (admitted_at, or
    admitted_through on the month marts). Before anything is built, record_test_scope keeps each
    incremental model's newest admission already built (its watermark) in raw.dbt_test_scope; the
    build then writes exactly the rows admitted after it (see incremental.sql). A test of that model
    judges:
    - a row-level test (not_null, accepted_values, holds_on_every_row): the rows admitted after the
      watermark, the ones this build wrote;
    - a key test (unique, unique_combination): every row whose key is among those rows' keys
      ("the keys they touch"), so a new row that repeats an old key is caught;
    - any other test (a group-level one such as shares_sum_to_one): the whole model.
    A full build (--full-refresh), a model built for the first time, a `dbt test` run and a model
    this invocation does not build leave no watermark: their tests judge every row, as before.
    Spark builds the large facts as tables: nothing is scoped there.
-#}
{% macro record_test_scope() %}
    {%- if execute and target.type != 'spark' %}
        {% do run_query(
            'create table if not exists raw.dbt_test_scope (model_name ' ~ dbt.type_string()
            ~ ', scope_column ' ~ dbt.type_string() ~ ', judged_from ' ~ dbt.type_timestamp() ~ ')'
        ) %}
        {% do run_query('delete from raw.dbt_test_scope') %}
        {%- if flags.WHICH in ('build', 'run') and not flags.FULL_REFRESH %}
            {%- for node in graph.nodes.values()
                if node.resource_type == 'model' and node.config.materialized == 'incremental'
                and node.unique_id in selected_resources %}
                {%- set relation = adapter.get_relation(node.database, node.schema, node.alias or node.name) %}
                {%- set column = scope_column(relation) if relation else none %}
                {%- if column %}
                    {% do run_query(
                        "insert into raw.dbt_test_scope select '" ~ node.name ~ "', '" ~ column ~ "', max("
                        ~ column ~ ") from " ~ relation ~ " having max(" ~ column ~ ") is not null"
                    ) %}
                {%- endif %}
            {%- endfor %}
        {%- endif %}
        {#- dbt-duckdb runs a hook's queries in a transaction that is kept only when committed;
            dbt-postgres has committed them already -#}
        {% if target.type == 'duckdb' %}{% do adapter.commit() %}{% endif %}
    {%- endif %}
{% endmacro %}

{#- The column that says when a model's rows were admitted (none: the model is not scoped). -#}
{% macro scope_column(relation) -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {{- return(
        'admitted_at' if 'admitted_at' in names else ('admitted_through' if 'admitted_through' in names else none)
    ) -}}
{%- endmacro %}

{#- The tests that judge one row at a time, and those that judge a key. -#}
{% macro row_level_tests() %}{{ return(['not_null', 'accepted_values', 'holds_on_every_row']) }}{% endmacro %}

{#- dbt wraps the model a generic test reads in this macro (dbt's own adds the test's `where`). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scoped = judged_rows_predicate(relation) -%}
    {%- set conditions = [] -%}
    {%- if where %}{% do conditions.append('(' ~ where ~ ')') %}{% endif -%}
    {%- if scoped %}{% do conditions.append(scoped) %}{% endif -%}
    {%- if conditions -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}

{#- The predicate keeping the rows a test of an incremental model judges, or '' for every row. -#}
{% macro judged_rows_predicate(relation) -%}
    {%- set test = model.get('test_metadata') or {} -%}
    {%- set attached = graph.nodes.get(model.get('attached_node')) if model.get('attached_node') else none -%}
    {%- if not execute or target.type == 'spark' or attached is none
        or attached.config.materialized != 'incremental' -%}
        {{ return('') }}
    {%- endif -%}
    {%- if test.get('name') == 'unique' -%}
        {%- set keys = [test.kwargs.column_name] -%}
    {%- elif test.get('name') == 'unique_combination' -%}
        {%- set keys = test.kwargs.columns -%}
    {%- elif test.get('name') in row_level_tests() -%}
        {%- set keys = none -%}
    {%- else -%}
        {{ return('') }}
    {%- endif -%}
    {%- set column = scope_column(relation) -%}
    {%- if not column -%}{{ return('') }}{%- endif -%}
    {%- set in_scope -%}
        {{ column }} > coalesce(
            (select judged_from from raw.dbt_test_scope where model_name = '{{ attached.name }}'),
            cast('1900-01-01' as {{ dbt.type_timestamp() }})
        )
    {%- endset -%}
    {%- if keys is none -%}
        {{ return(in_scope) }}
    {%- endif -%}
    {%- set key_list = keys | join(', ') -%}
    {{ return('(' ~ key_list ~ ') in (select ' ~ key_list ~ ' from ' ~ relation ~ ' where ' ~ in_scope ~ ')') }}
{%- endmacro %}
