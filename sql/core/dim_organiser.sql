-- core.dim_organiser: one row per organiser of returns (and _T, all organisers)
with source as (
    select * from reference_organiser
)

select
    -- keys
    surrogate_key('organiser', source.organiser_code) as organiser_key,
    source.organiser_code,
    -- names
    source.name_nl,
    source.name_fr,
    source.name_en
from source
