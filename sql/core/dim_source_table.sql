-- core.dim_source_table: one row per table of the bulletin that an observation comes from
with source as (
    select * from reference_source_table
)

select
    -- keys
    surrogate_key('source_table', source.table_code) as source_table_key,
    source.table_code,
    -- attributes
    source.breakdown,
    source.table_priority,
    source.name_nl,
    source.name_fr,
    source.name_en
from source
