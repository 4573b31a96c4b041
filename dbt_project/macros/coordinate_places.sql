{#- Records placed by their coordinates (orchestration/boundaries/placing.py), applied in staging.

    Placing keeps, per record of a landed file, the beat its point falls in, against the city's
    admitted beat boundaries. Staging takes that beat where the record gives none ("placed") or a
    code no boundary has ("re-placed"); a record whose point lies in another beat than the one it
    reports keeps its reported beat (the city's word stands; the disagreement is counted in
    mart_record_placement). A new admitted boundary file places every file again, and the build
    state asks for a full refresh (orchestration/transform/build_state.py). -#}

{% macro coordinate_places(records, source_name) -%}
with_places as (
    select
        {{ records }}.*,
        places.placed_area as coordinate_beat,
        places.placement as coordinate_placement
    from {{ records }}
    left join (
        select
            batch_id,
            source_profile,
            row_number as record_row_number,
            placed_area,
            placement
        from {{ optional_source('raw', 'record_places', {
            'source': 'varchar', 'source_profile': 'varchar', 'batch_id': 'varchar', 'record_id': 'varchar',
            'row_number': 'bigint', 'reported_area': 'varchar', 'placed_area': 'varchar', 'placement': 'varchar'}) }}
        where source = '{{ source_name }}' and placement in ('placed', 're-placed')
    ) as places
        on
            {{ records }}._batch_id = places.batch_id
            and {{ records }}._source_profile = places.source_profile
            and {{ records }}._row_number = places.record_row_number
)
{%- endmacro %}

{#- The beat of a record with its reported beat (the record's own or a lookup's) and where the beat
    came from: reported, placed by coordinates, or re-placed by coordinates over an unknown code. -#}
{% macro placed_beat(reported) -%}
        case
            when coordinate_placement = 're-placed' then coordinate_beat
            else coalesce({{ reported }}, coordinate_beat)
        end as beat,
        {{ reported }} as reported_beat,
        case
            when coordinate_placement = 're-placed' then 're-placed by coordinates'
            when {{ reported }} is not null then 'reported'
            when coordinate_beat is not null then 'placed by coordinates'
        end as beat_source
{%- endmacro %}
