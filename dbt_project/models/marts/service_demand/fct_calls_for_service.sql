-- One row per call: classified, placed, timed and costed (see int_calls_classified).
select * from {{ ref('int_calls_classified') }}
