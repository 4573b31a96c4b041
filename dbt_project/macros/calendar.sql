{#- Calendar helpers whose SQL differs between engines. -#}

{#- Hour of the week, 0 = Monday 00:00-00:59 ... 167 = Sunday 23:00-23:59. -#}
{% macro hour_of_week(ts) -%}
    {{ return(adapter.dispatch('hour_of_week')(ts)) }}
{%- endmacro %}

{% macro default__hour_of_week(ts) -%}
    ((cast(extract(isodow from {{ ts }}) as integer) - 1) * 24 + cast(extract(hour from {{ ts }}) as integer))
{%- endmacro %}

{% macro spark__hour_of_week(ts) -%}
    (((dayofweek({{ ts }}) + 5) % 7) * 24 + hour({{ ts }}))
{%- endmacro %}

{#- First day of the month of a timestamp, as a date. -#}
{% macro month_start(ts) -%}
    cast({{ dbt.date_trunc('month', ts) }} as date)
{%- endmacro %}

{#- Monday of the week of a timestamp, as a date (ISO weeks, as every engine truncates them). -#}
{% macro week_start(ts) -%}
    cast({{ dbt.date_trunc('week', ts) }} as date)
{%- endmacro %}

{#- Minutes from one timestamp to another (fractional; negative when the second is earlier). -#}
{% macro minutes_between(start_ts, end_ts) -%}
    ({{ dbt.datediff(start_ts, end_ts, 'second') }} / 60.0)
{%- endmacro %}

{#- The period grains the enforcement and violence marts report on, one row each (a CTE body). -#}
{% macro period_types() -%}
    select 'month' as period_type
    union all
    select 'quarter' as period_type
    union all
    select 'year' as period_type
{%- endmacro %}
