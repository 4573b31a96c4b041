{#- 1 for the latest landed version of each id of a source profile (later batch, then later row). -#}
{% macro latest_version_rank(id_column) -%}
    row_number() over (
        partition by _source_profile, {{ id_column }}
        order by _loaded_at desc, _batch_id desc, _row_number desc
    )
{%- endmacro %}
