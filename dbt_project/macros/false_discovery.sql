{#-
    Many areas tested at once: the Benjamini-Hochberg procedure. Selects every row of relation
    with a boolean column `name`: true when the row's p-value is a discovery at false discovery
    rate `rate` among the rows of its group (partition_by, a list of columns) that have a p-value.
    Ties in p are ordered by tiebreak; rows with no p-value are never discoveries, and are ranked
    last on every engine (Spark sorts NULL first unless told).
-#}
{% macro benjamini_hochberg(relation, p_value, partition_by, tiebreak, rate, name) -%}
    select
        bh_ranked.*,
        bh_ranked.{{ p_value }} is not null
        and bh_ranked.bh_rank_{{ name }} <= coalesce(
            max(
                case
                    when bh_ranked.{{ p_value }} <= bh_ranked.bh_rank_{{ name }} * {{ rate }}
                        / nullif(bh_ranked.bh_tested_{{ name }}, 0)
                        then bh_ranked.bh_rank_{{ name }}
                end
            ) over (partition by {{ partition_by | join(', ') }}),
            0
        ) as {{ name }}
    from (
        select
            {{ relation }}.*,
            row_number() over (
                partition by {{ partition_by | join(', ') }}
                order by case when {{ p_value }} is null then 1 else 0 end, {{ p_value }}, {{ tiebreak }}
            ) as bh_rank_{{ name }},
            count({{ p_value }}) over (partition by {{ partition_by | join(', ') }}) as bh_tested_{{ name }}
        from {{ relation }}
    ) as bh_ranked
{%- endmacro %}
