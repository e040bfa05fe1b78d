-- core.dim_bulletin: one row per loaded edition (a file and its sha256), with its source,
-- publication date and place in the precedence rule
with source as (
    select * from raw.bulletins
),

dated as (
    select
        source.*,
        strptime(source.coverage_start, '%Y-%m')::date as coverage_start_date,
        last_day(strptime(source.coverage_end, '%Y-%m')::date) as coverage_end_date
    from source
),

sourced as (
    select
        dated.*,
        publisher.source_rank,
        publisher.name_en as source_name,
        -- an edition that states no publication date is taken as published at its coverage end
        coalesce(dated.published_on::date, dated.coverage_end_date) as publication_date,
        date_diff('month', dated.coverage_start_date, dated.coverage_end_date + 1)
            as coverage_months
    from dated
    left join core.dim_source as publisher on publisher.source_code = dated.source_code
)

select
    -- keys
    surrogate_key('bulletin', sourced.sha256) as bulletin_key,
    sourced.sha256,
    -- attributes
    sourced.file_name,
    sourced.format,
    sourced.encoding,
    sourced.language,
    sourced.report_year,
    -- source
    sourced.source_code,
    sourced.source_name,
    sourced.source_label,
    sourced.source_rank,
    -- dates
    sourced.coverage_start_date as coverage_start,
    sourced.coverage_end_date as coverage_end,
    sourced.coverage_months,
    sourced.publication_date as published_on,
    sourced.published_on is not null as is_published_on_stated,
    sourced.parsed_at::timestamptz as loaded_at,
    -- the precedence rule: 1 = the edition whose figure wins wherever editions publish the same
    -- figure: the best-ranked source, then the newest publication, then the widest coverage;
    -- the sha256 keeps the order stable where nothing else separates two editions
    row_number() over (
        order by
            sourced.source_rank asc nulls last,
            sourced.publication_date desc,
            sourced.coverage_months desc,
            sourced.sha256 asc
    ) as precedence_rank
from sourced
