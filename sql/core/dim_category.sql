-- core.dim_category: one row per category of migrant (and _T, all categories), in a
-- hierarchy: each code rolls up to its parent (data/reference/category.csv)
with source as (
    select * from reference_category
)

select
    -- keys
    surrogate_key('category', source.category_code) as category_key,
    source.category_code,
    -- hierarchy: level 1 codes add up to the total, level 2 codes to their parent
    source.parent_code as parent_category_code,
    case
        when source.category_code = '_T' then 0
        when source.parent_code = '_T' then 1
        else 2
    end as category_level,
    -- names
    source.name_nl,
    source.name_fr,
    source.name_en
from source
