{#-
    Complementary suppression (one disclosure rule for every public table).
    A withheld count (from 1 to var('min_cell_count') - 1) can be recovered by subtraction when it
    is the only withheld cell of an equation whose other cells are published (a total = the sum of
    its parts). Each round finds every such equation and withholds its smallest published non-zero
    cell as well; rounds repeat because a new withholding can leave another equation with one.
    `cells`: a CTE with cell_id, cell_value, is_withheld (the primary rule);
    `members`: a CTE with equation_id, cell_id (every cell of an equation, its total included).
    Writes CTEs ending in one named `result` (cell_id, cell_value, is_withheld). The singular test
    no_withheld_cell_alone_in_an_equation checks that the rounds were enough.
-#}
{% macro complementary_suppression(cells, members, result, rounds=8) -%}
    {{ result }}_round_0 as (
        select cell_id, cell_value, is_withheld from {{ cells }}
    ),
    {%- for round in range(1, rounds + 1) %}
    {%- set previous = result ~ '_round_' ~ (round - 1) %}

    {{ result }}_open_{{ round }} as (
        select members.equation_id
        from {{ members }} as members
        inner join {{ previous }} as cells on members.cell_id = cells.cell_id
        group by members.equation_id
        having sum(case when cells.is_withheld then 1 else 0 end) = 1
    ),

    {{ result }}_complements_{{ round }} as (
        select distinct ranked.cell_id
        from (
            select
                members.cell_id,
                row_number() over (
                    partition by members.equation_id order by cells.cell_value, members.cell_id
                ) as pick
            from {{ members }} as members
            inner join {{ result }}_open_{{ round }} as open_equations
                on members.equation_id = open_equations.equation_id
            inner join {{ previous }} as cells on members.cell_id = cells.cell_id
            where not cells.is_withheld and cells.cell_value > 0
        ) as ranked
        where ranked.pick = 1
    ),

    {{ result }}_round_{{ round }} as (
        select
            cells.cell_id,
            cells.cell_value,
            cells.is_withheld or complements.cell_id is not null as is_withheld
        from {{ previous }} as cells
        left join {{ result }}_complements_{{ round }} as complements on cells.cell_id = complements.cell_id
    ),
    {%- endfor %}

    {{ result }} as (
        select * from {{ result }}_round_{{ rounds }}
    )
{%- endmacro %}
