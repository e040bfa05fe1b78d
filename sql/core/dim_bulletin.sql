-- core.dim_bulletin: one row per loaded edition (a file and its sha256)
with source as (
    select * from raw.bulletins
)

select
    -- keys
    surrogate_key('bulletin', source.sha256) as bulletin_key,
    source.sha256,
    -- attributes
    source.file_name,
    source.format,
    source.encoding,
    source.language,
    source.report_year,
    -- dates
    strptime(source.coverage_start, '%Y-%m')::date as coverage_start,
    last_day(strptime(source.coverage_end, '%Y-%m')::date) as coverage_end,
    source.parsed_at::timestamptz as loaded_at,
    -- 1 = the newest edition by coverage: it wins wherever editions publish the same figure
    row_number() over (
        order by
            source.coverage_end desc,
            source.coverage_start asc,
            source.report_year desc,
            source.file_name desc,
            source.sha256 asc
    ) as vintage_rank
from source
