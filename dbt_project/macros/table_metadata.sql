{#-
    Each model and seed reports its columns, and a table its row count, in dbt's log as it
    finishes (a post-hook, dbt_project.yml), for the Dagster catalog
    (orchestration/transform/table_metadata.py). dbt holds the DuckDB file while it builds, so
    nothing else can read the file until dbt ends; reported from inside the build, each model's
    metadata arrives with its own event, and Dagster records the build's events while dbt is still
    building instead of all of them after it. A view is not counted: counting it runs its query.
    Spark reports nothing (a count there is a Spark job per model).
-#}
{% macro report_table_metadata() %}
    {%- if execute and target.type != 'spark' -%}
        {%- set payload = {'unique_id': model.unique_id, 'columns': []} -%}
        {%- for column in adapter.get_columns_in_relation(this) -%}
            {%- do payload['columns'].append([column.name, column.dtype]) -%}
        {%- endfor -%}
        {%- if model.config.materialized != 'view' -%}
            {%- set counted = run_query('select count(*) from ' ~ this) -%}
            {%- do payload.update({'rows': counted.columns[0].values()[0] | int}) -%}
        {%- endif -%}
        {{- log('psw.table_metadata ' ~ tojson(payload), info=true) -}}
    {%- endif -%}
{%- endmacro %}
