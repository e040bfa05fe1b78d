-- core.dim_source: one row per publisher of figures, with its rank in the precedence rule
-- (data/reference/source.csv; 1 = the most authoritative, Fedasil's own publications)
with source as (
    select * from reference_source
)

select
    -- keys
    surrogate_key('source', source.source_code) as source_key,
    source.source_code,
    -- attributes
    source.source_rank,
    source.description,
    -- names
    source.name_nl,
    source.name_fr,
    source.name_en
from source
