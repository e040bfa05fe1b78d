-- marts.annual_returns: one row per year: the winning full-year figure where any edition gives
-- one (published, or summed from a complete breakdown), else the winning year-to-date figure
-- of the most months (months_covered below 12)
with totals as (
    select *
    from core.winning_figures as winners
    where
        winners.country_code = '_T'
        and winners.category_code = '_T'
        and winners.channel_code = '_T'
        and winners.returns is not null
        and (
            winners.period_grain = 'year'
            or (
                winners.period_grain = 'range'
                and month(winners.period_start) = 1
                and year(winners.period_end) = winners.year
            )
        )
),

-- the period of each year's figure: the longest one with a total of all organisers
chosen_period as (
    select totals.year, totals.period_code
    from totals
    qualify row_number() over (
        partition by totals.year
        order by totals.organiser_code != '_T', totals.months_covered desc
    ) = 1
),

by_organiser as (
    select
        totals.*,
        (
            select string_agg(footnote.footnote_mark || ' ' || footnote.footnote_text, ' ')
            from core.dim_footnote as footnote
            where
                footnote.bulletin_key = totals.bulletin_key
                and footnote.footnote_mark = totals.footnote_marks
        ) as footnote,
        -- lineage: the edition of the total, else of the first organiser's figure
        {
            'bulletin': totals.bulletin,
            'source_code': totals.source_code,
            'published_on': totals.published_on
        } as edition,
        {'not_total': totals.organiser_code != '_T', 'bulletin': totals.bulletin} as lineage_order
    from totals
    inner join chosen_period
        on chosen_period.year = totals.year
        and chosen_period.period_code = totals.period_code
)

select
    -- keys
    by_organiser.year,
    -- measures
    max(by_organiser.returns) filter (where by_organiser.organiser_code = '_T') as returns,
    max(by_organiser.returns) filter (
        where by_organiser.organiser_code = 'FEDASIL'
    ) as returns_fedasil,
    max(by_organiser.returns) filter (where by_organiser.organiser_code = 'DVZ') as returns_dvz,
    any_value(by_organiser.months_covered) as months_covered,
    any_value(by_organiser.months_covered) = 12 as is_complete,
    coalesce(
        bool_or(by_organiser.is_derived) filter (where by_organiser.organiser_code = '_T'), false
    ) as is_derived,
    -- footnotes and lineage of the total
    max(nullif(by_organiser.footnote_marks, '')) filter (
        where by_organiser.organiser_code = '_T'
    ) as footnote_marks,
    max(by_organiser.footnote) filter (where by_organiser.organiser_code = '_T') as footnote,
    any_value(by_organiser.period_code) as period_code,
    arg_min(by_organiser.edition, by_organiser.lineage_order).bulletin as bulletin,
    arg_min(by_organiser.edition, by_organiser.lineage_order).source_code as source_code,
    arg_min(by_organiser.edition, by_organiser.lineage_order).published_on as published_on
from by_organiser
group by by_organiser.year
order by by_organiser.year
