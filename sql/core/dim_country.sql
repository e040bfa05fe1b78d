-- core.dim_country: one row per country code (ISO 3166-1 alpha-2, Eurostat extras, _O, _T)
with source as (
    select * from reference_country
)

select
    -- keys
    surrogate_key('country', source.country_code) as country_key,
    source.country_code,
    -- names
    source.name_nl,
    source.name_fr,
    source.name_en,
    -- attributes
    source.is_iso_3166
from source
