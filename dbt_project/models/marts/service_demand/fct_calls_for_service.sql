{#-
    One row per call: classified, placed, timed and costed (see int_calls_classified). A view:
    the rows are stored once, in int_calls_classified (built incrementally); a copy of ten
    million calls would add 13 s to every build and a gigabyte to the file.
-#}
{{ config(materialized='view') }}

select * from {{ ref('int_calls_classified') }}
-- a unit's status (return to station, out of service) is not a call; mart_classification_coverage counts them
where is_police_call
