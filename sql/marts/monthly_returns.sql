-- marts.monthly_returns: one row per month with a published figure (the winning figure of each)
with months as (
    select *
    from core.winning_figures as winners
    where
        winners.period_grain = 'month'
        and winners.country_code = '_T'
        and winners.category_code = '_T'
        and winners.channel_code = '_T'
        and winners.returns is not null
),

-- lineage: the edition of the total, else of the first organiser's figure
lineage as (
    select
        months.period_start,
        arg_min(
            {
                'bulletin': months.bulletin,
                'source_code': months.source_code,
                'published_on': months.published_on
            },
            {'not_total': months.organiser_code != '_T', 'bulletin': months.bulletin}
        ) as edition
    from months
    group by months.period_start
)

select
    -- dates
    months.period_start as month,
    any_value(months.year) as year,
    any_value(months.month_number) as month_number,
    -- measures
    max(months.returns) filter (where months.organiser_code = '_T') as returns,
    max(months.returns) filter (where months.organiser_code = 'FEDASIL') as returns_fedasil,
    max(months.returns) filter (where months.organiser_code = 'DVZ') as returns_dvz,
    coalesce(bool_or(months.is_derived) filter (where months.organiser_code = '_T'), false)
        as is_derived,
    -- lineage
    any_value(lineage.edition.bulletin) as bulletin,
    string_agg(distinct nullif(months.footnote_marks, ''), '') as footnote_marks,
    any_value(lineage.edition.source_code) as source_code,
    any_value(lineage.edition.published_on) as published_on
from months
inner join lineage on lineage.period_start = months.period_start
group by months.period_start
order by month
