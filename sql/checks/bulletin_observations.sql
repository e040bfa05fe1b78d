-- checks.bulletin_observations: one row per bulletin, table and period, summarising its
-- observations (smallest and largest figures, unresolved labels, duplicates, months outside the
-- coverage) with the line and label of the first offending row; the bulletin suite asserts on it
with flagged as (
    select
        staged.*,
        count(*) over (
            partition by
                staged.file, staged.table_code, staged.period_code, staged.organiser_code,
                staged.country_code, staged.category_code, staged.channel_code
        ) > 1 as is_duplicate
    from staged_observations as staged
)

select
    -- keys
    flagged.file,
    flagged.table_code || ' ' || flagged.period_code as subject,
    min(flagged.line_number) as line,
    count(*) as observations,
    -- figures
    min(flagged.returns) as min_returns,
    arg_min(flagged.line_number, flagged.returns) as min_returns_line,
    arg_min(flagged.row_label, flagged.returns) as min_returns_label,
    max(flagged.returns) as max_returns,
    arg_max(flagged.line_number, flagged.returns) as max_returns_line,
    min(flagged.share_pct) as min_share_pct,
    arg_min(flagged.line_number, flagged.share_pct) as min_share_pct_line,
    max(flagged.share_pct) as max_share_pct,
    arg_max(flagged.line_number, flagged.share_pct) as max_share_pct_line,
    -- labels without a code
    count(*) filter (where flagged.country_code is null) as unresolved_countries,
    arg_min(flagged.row_label, flagged.line_number) filter (
        where flagged.country_code is null
    ) as unresolved_country,
    min(flagged.line_number) filter (where flagged.country_code is null) as unresolved_country_line,
    count(*) filter (where flagged.category_code is null) as unresolved_categories,
    arg_min(flagged.row_label, flagged.line_number) filter (
        where flagged.category_code is null
    ) as unresolved_category,
    min(flagged.line_number) filter (
        where flagged.category_code is null
    ) as unresolved_category_line,
    count(*) filter (where flagged.channel_code is null) as unresolved_channels,
    arg_min(flagged.row_label, flagged.line_number) filter (
        where flagged.channel_code is null
    ) as unresolved_channel,
    min(flagged.line_number) filter (where flagged.channel_code is null) as unresolved_channel_line,
    count(*) filter (where flagged.organiser_code is null) as unresolved_organisers,
    arg_min(flagged.row_label, flagged.line_number) filter (
        where flagged.organiser_code is null
    ) as unresolved_organiser,
    min(flagged.line_number) filter (
        where flagged.organiser_code is null
    ) as unresolved_organiser_line,
    -- observations published twice
    count(*) filter (where flagged.is_duplicate) as duplicate_observations,
    arg_max(flagged.row_label, flagged.line_number) filter (
        where flagged.is_duplicate
    ) as duplicate_observation,
    max(flagged.line_number) filter (where flagged.is_duplicate) as duplicate_observation_line,
    -- report-year figures after the coverage end
    count(*) filter (where not flagged.is_within_coverage) as months_after_coverage,
    arg_min(flagged.row_label, flagged.line_number) filter (
        where not flagged.is_within_coverage
    ) as month_after_coverage,
    min(flagged.line_number) filter (
        where not flagged.is_within_coverage
    ) as month_after_coverage_line
from flagged
group by flagged.file, flagged.table_code, flagged.period_code
