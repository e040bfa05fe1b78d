-- core.edition_figures: one row per edition and figure that the marts show (a total, or a
-- breakdown by one dimension, of one period): the count and the share that edition gives.
-- A figure an edition publishes is taken as published (from its first table, where several
-- tables give it). A count it does not publish is derived from what it does publish, never
-- across editions: summed from its full-grain rows, the total of a complete breakdown (Fedasil
-- + DVZ; every category; every channel; countries with their 'other' row), or a year from its
-- twelve months. Derived counts have a `derivation`.
with fact as (
    select
        -- keys
        fact.bulletin_key,
        fact.period_key,
        source_table.table_code,
        source_table.table_priority,
        organiser.organiser_code,
        country.country_code,
        category.category_code,
        channel.channel_code,
        -- measures
        fact.returns,
        fact.share_pct,
        -- lineage
        fact.footnote_marks,
        fact.source_line,
        fact.source_page,
        (organiser.organiser_code != '_T')::int + (country.country_code != '_T')::int
        + (category.category_code != '_T')::int
        + (channel.channel_code != '_T')::int as dimensions_broken_down
    from core.fact_returns as fact
    inner join core.dim_source_table as source_table
        on source_table.source_table_key = fact.source_table_key
    inner join core.dim_organiser as organiser on organiser.organiser_key = fact.organiser_key
    inner join core.dim_country as country on country.country_key = fact.country_key
    inner join core.dim_category as category on category.category_key = fact.category_key
    inner join core.dim_channel as channel on channel.channel_key = fact.channel_key
),

-- within one edition, a figure several tables give (the year in the monthly table and in the
-- yearly history) comes from the first table that gives a count
published as (
    select
        fact.bulletin_key,
        fact.period_key,
        fact.organiser_code,
        fact.country_code,
        fact.category_code,
        fact.channel_code,
        arg_min(fact.returns, fact.table_priority) filter (
            where fact.returns is not null
        ) as returns,
        arg_min(fact.share_pct, fact.table_priority) filter (
            where fact.share_pct is not null
        ) as share_pct,
        arg_min(fact.table_code, {'no_count': fact.returns is null, 'priority': fact.table_priority})
            as source_table_code,
        arg_min(
            fact.footnote_marks, {'no_count': fact.returns is null, 'priority': fact.table_priority}
        ) as footnote_marks,
        arg_min(
            fact.source_line, {'no_count': fact.returns is null, 'priority': fact.table_priority}
        ) as source_line,
        arg_min(
            fact.source_page, {'no_count': fact.returns is null, 'priority': fact.table_priority}
        ) as source_page,
        null::varchar as derivation
    from fact
    where fact.dimensions_broken_down <= 1
    group by
        fact.bulletin_key, fact.period_key, fact.organiser_code, fact.country_code,
        fact.category_code, fact.channel_code
),

-- full-grain rows (a tidy file broken down by several dimensions at once) summed to the
-- totals and one-dimension breakdowns the marts show
summed as (
    select
        fact.bulletin_key,
        fact.period_key,
        coalesce(fact.organiser_code, '_T') as organiser_code,
        coalesce(fact.country_code, '_T') as country_code,
        coalesce(fact.category_code, '_T') as category_code,
        coalesce(fact.channel_code, '_T') as channel_code,
        sum(fact.returns)::bigint as returns
    from fact
    where fact.dimensions_broken_down > 1 and fact.returns is not null
    group by grouping sets (
        (fact.bulletin_key, fact.period_key),
        (fact.bulletin_key, fact.period_key, fact.organiser_code),
        (fact.bulletin_key, fact.period_key, fact.country_code),
        (fact.bulletin_key, fact.period_key, fact.category_code),
        (fact.bulletin_key, fact.period_key, fact.channel_code)
    )
    -- a group of rows not broken down by its dimension is the total, summed once already
    having
        (grouping(fact.organiser_code) = 1 or fact.organiser_code != '_T')
        and (grouping(fact.country_code) = 1 or fact.country_code != '_T')
        and (grouping(fact.category_code) = 1 or fact.category_code != '_T')
        and (grouping(fact.channel_code) = 1 or fact.channel_code != '_T')
),

first_level as (
    select * from published
    union all by name
    select summed.*, 'sum of its full-grain rows' as derivation
    from summed
    anti join published using (
        bulletin_key, period_key, organiser_code, country_code, category_code, channel_code
    )
),

-- the counts of each one-dimension breakdown, with the top-level code each rolls up to
breakdowns as (
    select
        first_level.bulletin_key,
        first_level.period_key,
        first_level.returns,
        case
            when first_level.organiser_code != '_T' then 'organiser'
            when first_level.country_code != '_T' then 'country'
            when first_level.category_code != '_T' then 'category'
            else 'channel'
        end as dimension,
        case
            when first_level.organiser_code != '_T' then first_level.organiser_code
            when first_level.country_code != '_T' then first_level.country_code
            when first_level.category_code != '_T' then first_level.category_code
            else first_level.channel_code
        end as code
    from first_level
    where
        first_level.returns is not null
        and (first_level.organiser_code != '_T')::int + (first_level.country_code != '_T')::int
        + (first_level.category_code != '_T')::int + (first_level.channel_code != '_T')::int = 1
),

parts as (
    select
        breakdowns.*,
        coalesce(hierarchy.top_code, breakdowns.code) as top_code,
        hierarchy.top_codes,
        coalesce(hierarchy.top_parts, 0) as top_parts
    from breakdowns
    left join reference_hierarchy as hierarchy
        on hierarchy.dimension = breakdowns.dimension and hierarchy.code = breakdowns.code
),

-- each top-level code of a breakdown: given itself, or through all of its parts
tops as (
    select
        parts.bulletin_key,
        parts.period_key,
        parts.dimension,
        parts.top_code,
        coalesce(
            max(parts.returns) filter (where parts.code = parts.top_code),
            if(
                count(*) filter (where parts.code != parts.top_code) = any_value(parts.top_parts),
                sum(parts.returns) filter (where parts.code != parts.top_code),
                null
            )
        ) as returns,
        any_value(parts.top_codes) as top_codes
    from parts
    group by parts.bulletin_key, parts.period_key, parts.dimension, parts.top_code
),

-- a breakdown is complete with every top-level code of its list, or with its 'other' row
complete_breakdowns as (
    select
        tops.bulletin_key,
        tops.period_key,
        tops.dimension,
        sum(tops.returns)::bigint as returns
    from tops
    group by tops.bulletin_key, tops.period_key, tops.dimension
    having
        bool_and(tops.returns is not null)
        and (
            bool_or(tops.top_code = '_O')
            or count(*) = any_value(tops.top_codes)
        )
),

totals_from_breakdowns as (
    select
        complete_breakdowns.bulletin_key,
        complete_breakdowns.period_key,
        '_T' as organiser_code,
        '_T' as country_code,
        '_T' as category_code,
        '_T' as channel_code,
        complete_breakdowns.returns,
        'sum of its complete breakdown by ' || complete_breakdowns.dimension as derivation
    from complete_breakdowns
    anti join (
        select first_level.bulletin_key, first_level.period_key
        from first_level
        where
            first_level.organiser_code = '_T'
            and first_level.country_code = '_T'
            and first_level.category_code = '_T'
            and first_level.channel_code = '_T'
    ) as totals using (bulletin_key, period_key)
    -- several complete breakdowns: the one of the first table (organisers, countries, ...)
    qualify row_number() over (
        partition by complete_breakdowns.bulletin_key, complete_breakdowns.period_key
        order by list_position(
            ['organiser', 'country', 'category', 'channel'], complete_breakdowns.dimension
        )
    ) = 1
),

second_level as (
    select * from first_level
    union all by name
    select * from totals_from_breakdowns
),

-- a year from its twelve months, per organiser, where the edition gives no figure for it
years_from_months as (
    select
        figures.bulletin_key,
        year_period.period_key,
        figures.organiser_code,
        '_T' as country_code,
        '_T' as category_code,
        '_T' as channel_code,
        sum(figures.returns)::bigint as returns,
        'sum of its twelve months' as derivation
    from second_level as figures
    inner join core.dim_period as month_period on month_period.period_key = figures.period_key
    inner join core.dim_period as year_period
        on year_period.period_code = month_period.year::varchar
    where
        month_period.grain = 'month'
        and figures.returns is not null
        and figures.country_code = '_T'
        and figures.category_code = '_T'
        and figures.channel_code = '_T'
    group by figures.bulletin_key, year_period.period_key, figures.organiser_code
    having count(*) = 12
),

figures as (
    select * from second_level
    union all by name
    select years_from_months.*
    from years_from_months
    anti join second_level using (
        bulletin_key, period_key, organiser_code, country_code, category_code, channel_code
    )
),

tabled as (
    select
        figures.*,
        -- the breakdown a figure belongs to (totals and organisers: the monthly table's)
        case
            when figures.country_code != '_T' then 'COUNTRY'
            when figures.category_code != '_T' then 'CATEGORY'
            when figures.channel_code != '_T' then 'CHANNEL'
            else 'MONTHLY'
        end as table_code
    from figures
)

select
    -- keys
    tabled.bulletin_key,
    tabled.period_key,
    tabled.table_code,
    tabled.organiser_code,
    tabled.country_code,
    tabled.category_code,
    tabled.channel_code,
    -- measures
    tabled.returns,
    tabled.share_pct,
    tabled.derivation is not null as is_derived,
    -- lineage: how a derived count was made, the table, line and page of a published one
    tabled.derivation,
    coalesce(tabled.source_table_code, tabled.table_code) as source_table_code,
    coalesce(tabled.footnote_marks, '') as footnote_marks,
    tabled.source_line,
    tabled.source_page
from tabled
