{#- Convert a UTC timestamp (without zone) to wall-clock time in the zone named by another column. -#}
{% macro utc_to_local(timestamp_column, zone_column) -%}
    {{ return(adapter.dispatch('utc_to_local')(timestamp_column, zone_column)) }}
{%- endmacro %}

{% macro default__utc_to_local(timestamp_column, zone_column) -%}
    (({{ timestamp_column }} at time zone 'UTC') at time zone {{ zone_column }})
{%- endmacro %}

{% macro duckdb__utc_to_local(timestamp_column, zone_column) -%}
    timezone({{ zone_column }}, timezone('UTC', {{ timestamp_column }}))
{%- endmacro %}

{% macro spark__utc_to_local(timestamp_column, zone_column) -%}
    from_utc_timestamp({{ timestamp_column }}, {{ zone_column }})
{%- endmacro %}
