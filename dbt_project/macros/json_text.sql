{#- The text of one key of a JSON object column, the key given as an expression (a column). -#}
{% macro json_text(json_column, key_expression) -%}
    {{ return(adapter.dispatch('json_text')(json_column, key_expression)) }}
{%- endmacro %}

{% macro default__json_text(json_column, key_expression) -%}
    ({{ json_column }} ->> {{ key_expression }})
{%- endmacro %}

{% macro postgres__json_text(json_column, key_expression) -%}
    (cast({{ json_column }} as json) ->> {{ key_expression }})
{%- endmacro %}

{% macro spark__json_text(json_column, key_expression) -%}
    get_json_object({{ json_column }}, concat('$.', {{ key_expression }}))
{%- endmacro %}
