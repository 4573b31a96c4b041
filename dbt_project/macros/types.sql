{#- A double-precision float on every engine (PostgreSQL spells it "double precision"). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double{%- endmacro %}

{% macro postgres__type_double() -%}double precision{%- endmacro %}

{#- numerator / denominator as a float on every engine (PostgreSQL divides a numeric literal as
    numeric, so `x * 1.0 / y` is numeric there and double in DuckDB); NULL when the denominator is 0. -#}
{% macro fraction(numerator, denominator) -%}
    cast({{ numerator }} as {{ type_double() }}) / nullif({{ denominator }}, 0)
{%- endmacro %}
