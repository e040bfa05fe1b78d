-- core.winning_figures: one row per figure the marts show (period x organiser x country x
-- category x channel): its winning count and its winning share, each chosen on its own among
-- every edition that gives it, by one rule: a published figure before a derived one, then
-- core.dim_bulletin.precedence_rank (source ranking, newest publication, widest coverage).
-- Every mart and every total reads its figures here.
with figures as (
    select
        figures.*,
        bulletin.precedence_rank
    from core.edition_figures as figures
    inner join core.dim_bulletin as bulletin on bulletin.bulletin_key = figures.bulletin_key
),

counts as (
    select
        figures.* exclude (share_pct, precedence_rank, bulletin_key),
        figures.bulletin_key as returns_bulletin_key
    from figures
    where figures.returns is not null
    qualify row_number() over (
        partition by
            figures.period_key, figures.organiser_code, figures.country_code,
            figures.category_code, figures.channel_code
        order by figures.is_derived, figures.precedence_rank
    ) = 1
),

-- a share is a measure of its own: a newer share never removes an older count
shares as (
    select
        figures.period_key,
        figures.table_code,
        figures.organiser_code,
        figures.country_code,
        figures.category_code,
        figures.channel_code,
        figures.share_pct,
        figures.bulletin_key as share_bulletin_key
    from figures
    where figures.share_pct is not null
    qualify row_number() over (
        partition by
            figures.period_key, figures.organiser_code, figures.country_code,
            figures.category_code, figures.channel_code
        order by figures.precedence_rank
    ) = 1
),

winners as (
    select *
    from counts
    full outer join shares using (
        period_key, table_code, organiser_code, country_code, category_code, channel_code
    )
)

select
    -- keys
    winners.table_code,
    period.period_code,
    winners.organiser_code,
    winners.country_code,
    winners.category_code,
    winners.channel_code,
    -- dates
    period.grain as period_grain,
    period.period_start,
    period.period_end,
    period.year,
    period.month_number,
    period.months_covered,
    -- names
    country.name_en as country_name_en,
    country.name_nl as country_name_nl,
    country.name_fr as country_name_fr,
    category.name_en as category_name_en,
    category.name_nl as category_name_nl,
    category.name_fr as category_name_fr,
    category.parent_category_code,
    category.category_level,
    channel.name_en as channel_name_en,
    channel.name_nl as channel_name_nl,
    channel.name_fr as channel_name_fr,
    -- measures
    winners.returns,
    winners.share_pct,
    coalesce(winners.is_derived, false) as is_derived,
    -- lineage: the edition of the count (else of the share), its source and publication date
    bulletin.bulletin_key,
    bulletin.file_name as bulletin,
    bulletin.source_code,
    bulletin.published_on,
    bulletin.precedence_rank,
    winners.derivation,
    winners.source_table_code,
    winners.footnote_marks,
    winners.source_line,
    winners.source_page,
    winners.share_bulletin_key,
    share_bulletin.file_name as share_bulletin
from winners
inner join core.dim_period as period on period.period_key = winners.period_key
inner join core.dim_country as country on country.country_code = winners.country_code
inner join core.dim_category as category on category.category_code = winners.category_code
inner join core.dim_channel as channel on channel.channel_code = winners.channel_code
inner join core.dim_bulletin as bulletin
    on bulletin.bulletin_key = coalesce(winners.returns_bulletin_key, winners.share_bulletin_key)
left join core.dim_bulletin as share_bulletin
    on share_bulletin.bulletin_key = winners.share_bulletin_key
