{#-
    Portable SQL for the performance marts (response times, community trust, budget, scorecard).
    DuckDB, PostgreSQL and Spark spell these differently; models call the macro, never the engine's name.
-#}

{#- Continuous percentile (linear interpolation between the two nearest values), as an aggregate. -#}
{% macro percentile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile_cont(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{#- Spark's percentile() is exact and interpolates like percentile_cont (percentile_approx does not). -#}
{% macro spark__percentile_cont(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}

{#- Several continuous percentiles of one expression in one aggregate, as a list (one state holds
    the values once: two percentile_cont of the same column hold them twice, which is what made the
    response-time mart run out of memory at ten million calls). Read an item with percentile_item. -#}
{% macro percentiles_cont(expression, fractions) -%}
    {{ return(adapter.dispatch('percentiles_cont')(expression, fractions)) }}
{%- endmacro %}

{% macro default__percentiles_cont(expression, fractions) -%}
    percentile_cont(array[{{ fractions | join(', ') }}]) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentiles_cont(expression, fractions) -%}
    quantile_cont({{ expression }}, [{{ fractions | join(', ') }}])
{%- endmacro %}

{% macro spark__percentiles_cont(expression, fractions) -%}
    percentile({{ expression }}, array({{ fractions | join(', ') }}))
{%- endmacro %}

{#- The n-th (from 1) percentile of a percentiles_cont list. -#}
{% macro percentile_item(list_expression, n) -%}
    {{ return(adapter.dispatch('percentile_item')(list_expression, n)) }}
{%- endmacro %}

{% macro default__percentile_item(list_expression, n) -%}
    ({{ list_expression }})[{{ n }}]
{%- endmacro %}

{% macro spark__percentile_item(list_expression, n) -%}
    ({{ list_expression }})[{{ n - 1 }}]
{%- endmacro %}

{#- 'YYYY-MM' label of a date (the scorecard's monthly period). -#}
{% macro month_label(date_expression) -%}
    {{ return(adapter.dispatch('month_label')(date_expression)) }}
{%- endmacro %}

{% macro default__month_label(date_expression) -%}
    to_char({{ date_expression }}, 'YYYY-MM')
{%- endmacro %}

{% macro duckdb__month_label(date_expression) -%}
    strftime({{ date_expression }}, '%Y-%m')
{%- endmacro %}

{% macro spark__month_label(date_expression) -%}
    date_format({{ date_expression }}, 'yyyy-MM')
{%- endmacro %}

{#- A value as text (for labels built from numbers). -#}
{% macro as_text(expression) -%}
    cast({{ expression }} as {{ dbt.type_string() }})
{%- endmacro %}

{#- Fiscal year of a date: named by the calendar year in which it ends (var fiscal_year_start_month). -#}
{% macro fiscal_year_of(date_expression) -%}
    (cast(extract(year from {{ date_expression }}) as integer)
    {%- if var('fiscal_year_start_month') | int > 1 %}
        + case when cast(extract(month from {{ date_expression }}) as integer)
            >= {{ var('fiscal_year_start_month') }} then 1 else 0 end
    {%- endif %})
{%- endmacro %}

{#- First day of a fiscal year, as a date. -#}
{% macro fiscal_year_start(fiscal_year_expression) -%}
    {%- set start_month = var('fiscal_year_start_month') | int -%}
    {%- if start_month > 1 -%}
        {{ make_date_of(fiscal_year_expression ~ ' - 1', start_month, 1) }}
    {%- else -%}
        {{ make_date_of(fiscal_year_expression, 1, 1) }}
    {%- endif -%}
{%- endmacro %}

{#- A date from year, month and day numbers. -#}
{% macro make_date_of(year_expression, month_expression, day_expression) -%}
    {{ return(adapter.dispatch('make_date_of')(year_expression, month_expression, day_expression)) }}
{%- endmacro %}

{% macro default__make_date_of(year_expression, month_expression, day_expression) -%}
    make_date(cast({{ year_expression }} as integer), cast({{ month_expression }} as integer),
        cast({{ day_expression }} as integer))
{%- endmacro %}

{#- A count as published: NULL when it is a small cell (from 1 to var min_cell_count - 1). -#}
{% macro suppress_small_count(count_expression, threshold_var='min_cell_count') -%}
    case
        when {{ count_expression }} = 0 or {{ count_expression }} >= {{ var(threshold_var) }}
            then {{ count_expression }}
    end
{%- endmacro %}

{#- Days in a fiscal year (365 or 366), from its first day to the first day of the next. -#}
{% macro days_in_fiscal_year(fiscal_year_expression) -%}
    {{ dbt.datediff(fiscal_year_start(fiscal_year_expression), fiscal_year_start(fiscal_year_expression ~ ' + 1'), 'day') }}
{%- endmacro %}

{#- Values joined into one string in a given order: string_agg(... order by ...) where the engine
    takes it; Spark writes the order as listagg's WITHIN GROUP. -#}
{% macro ordered_string_agg(expression, separator, order_by) -%}
    {{ return(adapter.dispatch('ordered_string_agg')(expression, separator, order_by)) }}
{%- endmacro %}

{% macro default__ordered_string_agg(expression, separator, order_by) -%}
    string_agg({{ expression }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__ordered_string_agg(expression, separator, order_by) -%}
    listagg({{ expression }}, {{ separator }}) within group (order by {{ order_by }})
{%- endmacro %}
