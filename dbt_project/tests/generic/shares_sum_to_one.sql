{#- Fails with the groups whose shares do not add up to 1 (within a rounding tolerance), and with
    the groups whose shares are all NULL (their sum is NULL, not 1): a group with nothing to share
    out (no stops, no calls) is kept out with the test's `where`. -#}
{% test shares_sum_to_one(model, column_name, group_by, tolerance=0.000001) %}
    select
        {{ group_by | join(', ') }},
        sum({{ column_name }}) as total_share
    from {{ model }}
    group by {{ group_by | join(', ') }}
    having sum({{ column_name }}) is null or abs(sum({{ column_name }}) - 1) > {{ tolerance }}
{% endtest %}
