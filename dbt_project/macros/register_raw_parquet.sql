{#-
    On Spark, the raw tables are Parquet files exported after landing (orchestration/engines):
    register each source table of schema raw over its folder before the models run.
    Other engines: nothing to do (DuckDB lands raw itself; PostgreSQL receives a copy).
-#}
{% macro register_raw_parquet() %}
    {% if target.type == 'spark' and execute %}
        {% set raw_dir = env_var('PSW_SPARK_RAW_DIR', '') %}
        {% do run_query('create schema if not exists raw') %}
        {% for source in graph.sources.values() if source.source_name == 'raw' %}
            {% do run_query('drop table if exists raw.' ~ source.name) %}
            {% do run_query("create table raw." ~ source.name ~ " using parquet location '" ~ raw_dir ~ "/" ~ source.name ~ "'") %}
        {% endfor %}
    {% endif %}
{% endmacro %}
