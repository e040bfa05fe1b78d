-- checks.bulletin_observations: one row per bulletin, table and period, summarising its
-- observations (smallest and largest figures, duplicates, months outside the coverage) with the
-- page, line and label of the first offending row; the bulletin suite asserts on it (labels
-- without a code: checks.bulletin_labels). Rows are found by their `place` (page and line in one
-- integer that sorts as the file reads), split into page and line at the end.
with staged as (
    select * from staged_observations
),

-- each observation's key: its codes, or its label where a code is missing (two different
-- labels without a code are two observations, not one twice); and the key's hash
with_label as not materialized (
    select
        staged.*,
        if(
            staged.organiser_code is null or staged.country_code is null
            or staged.category_code is null or staged.channel_code is null,
            staged.row_label,
            null
        ) as unresolved_label
    from staged
),

keyed as not materialized (
    select
        with_label.*,
        hash(
            with_label.organiser_code, with_label.country_code, with_label.category_code,
            with_label.channel_code, with_label.unresolved_label
        ) as key_hash
    from with_label
),

-- keys given more than once in a table and period, found by their hash: one small number per
-- row instead of every code (millions of rows are grouped here); compared exactly below
candidates as (
    select keyed.file, keyed.table_code, keyed.period_code, keyed.key_hash
    from keyed
    group by all
    having count(*) > 1
),

-- observations published more than once in a table and period of a bulletin
repeated as (
    select
        keyed.file,
        keyed.table_code,
        keyed.period_code,
        count(*) as observations,
        max(keyed.place) as place,
        arg_max(keyed.row_label, keyed.place) as label
    from keyed
    semi join candidates
        on candidates.file = keyed.file
        and candidates.table_code = keyed.table_code
        and candidates.period_code = keyed.period_code
        and candidates.key_hash = keyed.key_hash
    group by
        keyed.file, keyed.table_code, keyed.period_code, keyed.organiser_code,
        keyed.country_code, keyed.category_code, keyed.channel_code, keyed.unresolved_label
    having count(*) > 1
),

duplicates as (
    select
        repeated.file,
        repeated.table_code,
        repeated.period_code,
        sum(repeated.observations) as duplicate_observations,
        arg_min(repeated.label, repeated.place) as duplicate_observation,
        min(repeated.place) as duplicate_observation_place
    from repeated
    group by repeated.file, repeated.table_code, repeated.period_code
),

summary as (
    select
        -- keys
        staged.file,
        staged.table_code,
        staged.period_code,
        staged.table_code || ' ' || staged.period_code as subject,
        min(staged.place) as place,
        count(*) as observations,
        -- figures
        min(staged.returns) as min_returns,
        arg_min(staged.place, staged.returns) as min_returns_place,
        arg_min(staged.row_label, staged.returns) as min_returns_label,
        max(staged.returns) as max_returns,
        arg_max(staged.place, staged.returns) as max_returns_place,
        min(staged.share_pct) as min_share_pct,
        arg_min(staged.place, staged.share_pct) as min_share_pct_place,
        max(staged.share_pct) as max_share_pct,
        arg_max(staged.place, staged.share_pct) as max_share_pct_place,
        -- report-year figures after the coverage end
        count(*) filter (where not staged.is_within_coverage) as months_after_coverage,
        arg_min(staged.row_label, staged.place) filter (
            where not staged.is_within_coverage
        ) as month_after_coverage,
        min(staged.place) filter (
            where not staged.is_within_coverage
        ) as month_after_coverage_place
    from staged
    group by staged.file, staged.table_code, staged.period_code
),

checked as (
    select
        summary.*,
        coalesce(duplicates.duplicate_observations, 0) as duplicate_observations,
        duplicates.duplicate_observation,
        duplicates.duplicate_observation_place
    from summary
    left join duplicates
        on duplicates.file = summary.file
        and duplicates.table_code = summary.table_code
        and duplicates.period_code = summary.period_code
)

-- each place split into its line and page: min_returns_place gives min_returns_line and _page
select
    columns(lambda name: name not like '%place'),
    place_line(columns('^(.*)place$')) as '\1line',
    place_page(columns('^(.*)place$')) as '\1page'
from checked
