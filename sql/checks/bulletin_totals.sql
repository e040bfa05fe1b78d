-- checks.bulletin_totals: one row per stated total (or share) of a bulletin and what its parts
-- add up to; the bulletin suites assert on `difference`. Rows are found by their `place` (page and
-- line in one integer that sorts as the file reads), split into page and line at the end.
with staged as (
    select * from staged_observations
),

totals as (
    select * from staged where staged.period_grain != 'month' or staged.table_code != 'MONTHLY'
),

-- months of the monthly table against each total row of the same organiser
months_vs_total as (
    select
        'months_vs_total' as check_name,
        totals.file,
        totals.place,
        totals.organiser_code || ' ' || totals.period_code as subject,
        totals.returns as stated,
        sum(months.returns) as computed
    from totals
    inner join staged as months
        on months.file = totals.file
        and months.table_code = 'MONTHLY'
        and months.period_grain = 'month'
        and months.organiser_code = totals.organiser_code
        and months.period_start between totals.period_start and totals.period_end
    where totals.table_code = 'MONTHLY'
    group by all
),

organisers_vs_total as (
    select
        'organisers_vs_total' as check_name,
        staged.file,
        min(staged.place) as place,
        staged.period_code as subject,
        max(staged.returns) filter (where staged.organiser_code = '_T') as stated,
        sum(staged.returns) filter (where staged.organiser_code != '_T') as computed
    from staged
    where staged.table_code = 'MONTHLY'
    group by staged.file, staged.period_code
    having count(*) filter (where staged.organiser_code = '_T') = 1
        and count(*) filter (where staged.organiser_code = 'FEDASIL') = 1
        and count(*) filter (where staged.organiser_code = 'DVZ') = 1
),

-- the parts of each breakdown, with the top-level code of its list each rolls up to
parts as (
    select
        staged.*,
        coalesce(hierarchy.top_code, staged.breakdown_code) as top_code,
        hierarchy.top_codes,
        coalesce(hierarchy.top_parts, 0) as top_parts
    from (
        select
            staged.*,
            lower(staged.table_code) as dimension,
            -- an unresolved label still counts among the parts
            coalesce(
                case staged.table_code
                    when 'COUNTRY' then staged.country_code
                    when 'CATEGORY' then staged.category_code
                    when 'CHANNEL' then staged.channel_code
                end,
                'unresolved'
            ) as breakdown_code
        from staged
        where staged.table_code in ('COUNTRY', 'CATEGORY', 'CHANNEL')
    ) as staged
    left join reference_hierarchy as hierarchy
        on hierarchy.dimension = staged.dimension and hierarchy.code = staged.breakdown_code
),

-- one row per code of a breakdown (full-grain rows of the same code summed), so that what
-- follows works on a few rows per table and period however many rows a file has
codes as materialized (
    select
        parts.table_code,
        parts.file,
        parts.period_code,
        parts.breakdown_code,
        parts.top_code,
        any_value(parts.top_codes) as top_codes,
        any_value(parts.top_parts) as top_parts,
        sum(parts.returns) as returns,
        sum(parts.share_pct) as share_pct,
        min(parts.place) as first_place,
        max(parts.place) as last_place
    from parts
    group by
        parts.table_code, parts.file, parts.period_code, parts.breakdown_code, parts.top_code
),

-- each top-level code of a breakdown, given itself or through all of its parts
tops as (
    select
        codes.table_code,
        codes.file,
        codes.period_code,
        codes.top_code,
        bool_or(codes.breakdown_code = codes.top_code) as is_given,
        bool_or(codes.breakdown_code = codes.top_code)
        or count(*) filter (where codes.breakdown_code != codes.top_code)
        = any_value(codes.top_parts) as is_covered,
        any_value(codes.top_codes) as top_codes
    from codes
    where codes.breakdown_code != '_T'
    group by codes.table_code, codes.file, codes.period_code, codes.top_code
),

-- a breakdown is complete with every top-level code of its list, or with an 'other' row
-- (`_O`); without, it is a partial list (a top-N list of a press release, a single share)
completeness as (
    select
        tops.table_code,
        tops.file,
        tops.period_code,
        bool_or(tops.top_code = '_O')
        or count(*) filter (where tops.is_covered) = any_value(tops.top_codes) as is_complete
    from tops
    group by tops.table_code, tops.file, tops.period_code
),

-- a part counts once: a code whose parent is given too is counted in its parent
breakdowns as (
    select
        codes.table_code,
        codes.file,
        codes.period_code,
        coalesce(
            max(codes.last_place) filter (where codes.breakdown_code = '_T'),
            min(codes.first_place)
        ) as place,
        max(codes.returns) filter (where codes.breakdown_code = '_T') as stated,
        sum(codes.returns) filter (
            where codes.breakdown_code != '_T' and (
                codes.breakdown_code = codes.top_code or not coalesce(tops.is_given, false)
            )
        ) as computed,
        sum(codes.share_pct) filter (
            where codes.breakdown_code != '_T' and (
                codes.breakdown_code = codes.top_code or not coalesce(tops.is_given, false)
            )
        ) as share_sum,
        string_agg(codes.breakdown_code, ', ' order by codes.breakdown_code) filter (
            where codes.breakdown_code != '_T' and codes.share_pct is not null
        ) as shared_codes,
        coalesce(any_value(completeness.is_complete), false) as is_complete
    from codes
    left join tops
        on tops.table_code = codes.table_code
        and tops.file = codes.file
        and tops.period_code = codes.period_code
        and tops.top_code = codes.top_code
    left join completeness
        on completeness.table_code = codes.table_code
        and completeness.file = codes.file
        and completeness.period_code = codes.period_code
    group by codes.table_code, codes.file, codes.period_code
),

parts_vs_total as (
    select
        case
            when breakdowns.is_complete then lower(breakdowns.table_code) || '_parts_vs_total'
            when breakdowns.table_code = 'COUNTRY' then 'country_top_n_vs_total'
            else 'partial_list_vs_total'
        end as check_name,
        breakdowns.file,
        breakdowns.place,
        breakdowns.period_code as subject,
        breakdowns.stated,
        breakdowns.computed,
        null as message
    from breakdowns
    where breakdowns.stated is not null and breakdowns.computed is not null
),

-- the parts of a parent code against the parent, where both are given
parts_vs_parent as (
    select
        lower(codes.table_code) || '_parts_vs_parent' as check_name,
        codes.file,
        max(codes.last_place) filter (where codes.breakdown_code = codes.top_code) as place,
        codes.period_code || ' ' || codes.top_code as subject,
        max(codes.returns) filter (where codes.breakdown_code = codes.top_code) as stated,
        sum(codes.returns) filter (where codes.breakdown_code != codes.top_code) as computed,
        null as message
    from codes
    where codes.top_parts > 0
    group by codes.table_code, codes.file, codes.period_code, codes.top_code
    having
        count(codes.returns) filter (where codes.breakdown_code = codes.top_code) = 1
        and count(codes.returns) filter (where codes.breakdown_code != codes.top_code)
        = any_value(codes.top_parts)
),

-- shares of a complete breakdown add up to 100; those of a partial list stay within 100
shares_vs_100 as (
    select
        if(breakdowns.is_complete, 'shares_vs_100', 'partial_shares_vs_100') as check_name,
        breakdowns.file,
        breakdowns.place,
        breakdowns.table_code || ' ' || breakdowns.period_code as subject,
        100 as stated,
        breakdowns.share_sum as computed,
        breakdowns.table_code || ' ' || breakdowns.period_code || ': '
        || if(
            breakdowns.is_complete,
            'the shares of every ' || lower(breakdowns.table_code) || ' add up to '
            || round(breakdowns.share_sum, 1) || ', not 100',
            'the shares published (' || breakdowns.shared_codes || ', a partial list) add up to '
            || round(breakdowns.share_sum, 1) || ', more than 100'
        )
        || ' (' || place_text(breakdowns.place) || ')' as message
    from breakdowns
    where breakdowns.share_sum is not null
),

-- published shares of categories against the shares their counts give
shares_vs_counts as (
    select
        'shares_vs_counts' as check_name,
        parts.file,
        parts.place,
        parts.row_label || ' ' || parts.period_code as subject,
        parts.share_pct as stated,
        round(100.0 * parts.returns / breakdowns.stated, 1) as computed
    from staged as parts
    inner join breakdowns
        on breakdowns.file = parts.file
        and breakdowns.table_code = parts.table_code
        and breakdowns.period_code = parts.period_code
    where parts.table_code = 'CATEGORY'
        and parts.category_code != '_T'
        and parts.share_pct is not null
        and parts.returns is not null
        and breakdowns.stated > 0
),

-- the category table's total against the total of the monthly table and the country table
category_total_vs_other_tables as (
    select
        'category_total_vs_other_tables' as check_name,
        categories.file,
        categories.place,
        others.table_code || ' ' || categories.period_code as subject,
        others.returns as stated,
        categories.stated as computed
    from breakdowns as categories
    inner join staged as others
        on others.file = categories.file
        and others.period_code = categories.period_code
        and others.table_code in ('MONTHLY', 'COUNTRY')
        and others.organiser_code = '_T'
        and others.country_code = '_T'
    where categories.table_code = 'CATEGORY' and categories.stated is not null
),

-- the yearly history against the monthly table's total of the same year
history_vs_monthly as (
    select
        'history_vs_monthly' as check_name,
        history.file,
        history.place,
        history.period_code as subject,
        monthly.returns as stated,
        history.returns as computed
    from staged as history
    inner join staged as monthly
        on monthly.file = history.file
        and monthly.period_code = history.period_code
        and monthly.table_code = 'MONTHLY'
        and monthly.organiser_code = '_T'
    where history.table_code = 'HISTORY'
),

checks as (
    select * from months_vs_total
    union all by name select * from organisers_vs_total
    union all by name select * from parts_vs_total
    union all by name select * from parts_vs_parent
    union all by name select * from shares_vs_100
    union all by name select * from shares_vs_counts
    union all by name select * from category_total_vs_other_tables
    union all by name select * from history_vs_monthly
)

select
    checks.check_name,
    checks.file,
    place_line(checks.place) as line,
    place_page(checks.place) as page,
    checks.subject,
    checks.stated::double as stated,
    checks.computed::double as computed,
    checks.computed::double - checks.stated::double as difference,
    checks.message
from checks
