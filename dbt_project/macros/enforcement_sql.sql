{#-
    Portable SQL for the enforcement and violence marts (divergence, opportunity zones, violence
    concentration, stop equity). DuckDB, PostgreSQL and Spark differ on division of integers,
    rounding and date spines; the models call these macros, never the engine's own spelling.
-#}

{#- numerator / denominator as a double; NULL when the denominator is 0 or NULL (never an error). -#}
{% macro divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }}) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- First day of the period (month, quarter or year) that a month falls in, as a date. -#}
{% macro period_start_of(period_type, month) -%}
    case {{ period_type }}
        when 'month' then {{ month }}
        when 'quarter' then cast({{ dbt.date_trunc('quarter', month) }} as date)
        else cast({{ dbt.date_trunc('year', month) }} as date)
    end
{%- endmacro %}

{#- '2025-03' for a month, '2025-Q1' for a quarter, '2025' for a year. -#}
{% macro period_label(period_type, period_start) -%}
    {%- set year_text = "cast(cast(extract(year from " ~ period_start ~ ") as integer) as " ~ dbt.type_string() ~ ")" -%}
    {%- set month_text = "cast(cast(extract(month from " ~ period_start ~ ") as integer) as " ~ dbt.type_string() ~ ")" -%}
    case {{ period_type }}
        when 'month' then {{ dbt.concat([year_text, "'-'", "lpad(" ~ month_text ~ ", 2, '0')"]) }}
        when 'quarter' then {{ dbt.concat([year_text, "'-Q'", "cast(cast(extract(quarter from " ~ period_start ~ ") as integer) as " ~ dbt.type_string() ~ ")"]) }}
        else {{ year_text }}
    end
{%- endmacro %}

{#- Integers 1..upper_bound as column generated_number (a CTE body). -#}
{% macro integer_series(upper_bound) -%}
    {#- bigint on every engine: dbt's series is a float where the bound is one (PostgreSQL) -#}
    select cast(generated_number as bigint) as generated_number
    from ({{ dbt.generate_series(upper_bound) }}) as series_numbers
{%- endmacro %}

{#- A date moved on by a number of months. -#}
{% macro add_months(months, date) -%}
    cast({{ dbt.dateadd('month', months, date) }} as date)
{%- endmacro %}

{#- Whole months from one month start to another. -#}
{% macro months_between(first_month, last_month) -%}
    {{ dbt.datediff(first_month, last_month, 'month') }}
{%- endmacro %}

{#- Text joined from parts (dbt's concat: || on most engines, concat() on Spark). -#}
{% macro join_text(parts) -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}

{#- A ratio as text with one decimal: 3.4375 -> '3.4' (for plain-language reasons). -#}
{% macro ratio_text(expression) -%}
    {{ return(adapter.dispatch('ratio_text')(expression)) }}
{%- endmacro %}

{% macro default__ratio_text(expression) -%}
    cast(round(cast({{ expression }} as numeric), 1) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro duckdb__ratio_text(expression) -%}
    cast(round({{ expression }}, 1) as varchar)
{%- endmacro %}

{#- Spark's bare numeric is decimal(10,0): round the double itself. -#}
{% macro spark__ratio_text(expression) -%}
    cast(round({{ expression }}, 1) as string)
{%- endmacro %}

{#- A share as a whole percentage, as text: 0.8124 -> '81'. -#}
{% macro percent_text(expression) -%}
    cast(cast(round({{ expression }} * 100) as integer) as {{ dbt.type_string() }})
{%- endmacro %}

{#- A count as text: 41 -> '41'. -#}
{% macro count_text(expression) -%}
    cast({{ expression }} as {{ dbt.type_string() }})
{%- endmacro %}

{#-
    Gini index of how a count is spread over places, as an aggregate over one row per place
    (places with a count of 0 included): G = 2 * sum(i * x_i) / (n * sum(x)) - (n + 1) / n,
    with places in ascending order of x (i = 1..n). 0 = spread evenly, (n - 1) / n = all in one
    place. NULL when the count is 0 everywhere.
-#}
{% macro gini_index(value, ascending_position, places) -%}
    {{ return(adapter.dispatch('gini_index')(value, ascending_position, places)) }}
{%- endmacro %}

{% macro default__gini_index(value, ascending_position, places) -%}
    (
        2.0 * sum(cast({{ ascending_position }} as {{ type_double() }}) * {{ value }})
        / nullif(cast(max({{ places }}) as {{ type_double() }}) * sum({{ value }}), 0)
        - (max({{ places }}) + 1.0) / max({{ places }})
    )
{%- endmacro %}

{#-
    Share of a count that falls in the top fraction of places, as an aggregate over one row per
    place: the top ceil(places x fraction) places (at least one) in descending order of the count.
-#}
{% macro top_places_share(value, descending_position, places, fraction) -%}
    {{ divide(
        "sum(case when " ~ descending_position ~ " <= ceil(" ~ places ~ " * " ~ fraction ~ ") then "
        ~ value ~ " else 0 end)",
        "sum(" ~ value ~ ")"
    ) }}
{%- endmacro %}

{#- True when a count may be published: 0, or at least var('min_cell_count') (small cells are withheld). -#}
{% macro is_published(count) -%}
    ({{ count }} = 0 or {{ count }} >= {{ var('min_cell_count') }})
{%- endmacro %}

{#- A count as published: NULL when it is a small cell (1 to var('min_cell_count') - 1). -#}
{% macro published_count(count) -%}
    case when {{ is_published(count) }} then {{ count }} end
{%- endmacro %}

{#- A NULL of the engine's text type (varchar, text or string). -#}
{% macro null_text() -%}
    cast(null as {{ dbt.type_string() }})
{%- endmacro %}
