{#
    Which city each source profile belongs to, and the city's name: the profile's own `city` and
    `city_name` keys (raw.source_profiles, written at landing), else the shipped seed city_names.
    A profile in neither is a city of its own (every mart falls back to its profile name).
#}
with declared as (
    select distinct
        source_profile,
        city,
        city_name
    -- read raw (not stg_source_profiles) so that a warehouse whose profiles were never described
    -- (a test landing files by hand) still has its cities from the seed
    from {{ optional_source('raw', 'source_profiles', {
        'source_profile': 'varchar', 'city': 'varchar', 'city_name': 'varchar'}) }}
    where city is not null
),

seeded as (
    select
        source_profile,
        city,
        city_name
    from {{ ref('city_names') }}
),

final as (
    select
        source_profile,
        city,
        city_name
    from declared
    union all
    select
        seeded.source_profile,
        seeded.city,
        seeded.city_name
    from seeded
    where seeded.source_profile not in (select declared.source_profile from declared)
)

select * from final
