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

    {#- Each round reads the previous one once (window functions over its equations, not joins back
        to it): an engine that inlines CTEs (Spark) then plans rounds x cells, not 3^rounds. -#}
    {{ result }}_judged_{{ round }} as (
        select
            cells.cell_id,
            cells.cell_value,
            cells.is_withheld,
            members.equation_id,
            sum(case when cells.is_withheld then 1 else 0 end)
                over (partition by members.equation_id) as withheld_in_equation,
            row_number() over (
                partition by members.equation_id
                order by
                    case when not cells.is_withheld and cells.cell_value > 0 then 0 else 1 end,
                    cells.cell_value,
                    cells.cell_id
            ) as pick
        from {{ previous }} as cells
        left join {{ members }} as members on cells.cell_id = members.cell_id
    ),

    {{ result }}_round_{{ round }} as (
        select
            cell_id,
            cell_value,
            max(
                case
                    when is_withheld then 1
                    -- the smallest published non-zero cell of an equation with one withheld cell
                    when
                        equation_id is not null and withheld_in_equation = 1 and pick = 1 and cell_value > 0
                        then 1
                    else 0
                end
            ) = 1 as is_withheld
        from {{ result }}_judged_{{ round }}
        group by cell_id, cell_value
    ),
    {%- endfor %}

    {{ result }} as (
        select * from {{ result }}_round_{{ rounds }}
    )
{%- endmacro %}
