-- core.dim_category: one row per category of migrant (and _T, all categories)
with source as (
    select * from reference_category
)

select
    -- keys
    surrogate_key('category', source.category_code) as category_key,
    source.category_code,
    -- names
    source.name_nl,
    source.name_fr,
    source.name_en
from source
