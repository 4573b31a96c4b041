{#- Fails with the rows on which the expression is false (a row where it is NULL is not judged). -#}
{% test holds_on_every_row(model, column_name, expression) %}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}
