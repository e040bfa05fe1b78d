-- checks.bulletin_totals: one row per stated total (or share) of a bulletin and what its parts
-- add up to; the bulletin suites assert on `difference`
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
        totals.line_number as line,
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
        min(staged.line_number) as line,
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

-- a breakdown with an "other" row is complete; one without is a top-N list
breakdowns as (
    select
        staged.table_code,
        staged.file,
        staged.period_code,
        coalesce(
            max(staged.line_number) filter (where staged.breakdown_code = '_T'),
            min(staged.line_number)
        ) as line,
        max(staged.returns) filter (where staged.breakdown_code = '_T') as stated,
        sum(staged.returns) filter (where staged.breakdown_code != '_T') as computed,
        sum(staged.share_pct) filter (where staged.breakdown_code != '_T') as share_sum,
        bool_or(staged.breakdown_code = '_O') as has_other
    from (
        select
            staged.*,
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
    group by staged.table_code, staged.file, staged.period_code
),

parts_vs_total as (
    select
        lower(breakdowns.table_code)
        || if(breakdowns.table_code = 'COUNTRY' and not breakdowns.has_other, '_top_n', '_parts')
        || '_vs_total' as check_name,
        breakdowns.file,
        breakdowns.line,
        breakdowns.period_code as subject,
        breakdowns.stated,
        breakdowns.computed
    from breakdowns
    where breakdowns.stated is not null and breakdowns.computed is not null
),

shares_vs_100 as (
    select
        'shares_vs_100' as check_name,
        breakdowns.file,
        breakdowns.line,
        breakdowns.table_code || ' ' || breakdowns.period_code as subject,
        100 as stated,
        breakdowns.share_sum as computed
    from breakdowns
    where breakdowns.share_sum is not null
),

-- published shares of categories against the shares their counts give
shares_vs_counts as (
    select
        'shares_vs_counts' as check_name,
        parts.file,
        parts.line_number as line,
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
        categories.line,
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
        history.line_number as line,
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
    union all by name select * from shares_vs_100
    union all by name select * from shares_vs_counts
    union all by name select * from category_total_vs_other_tables
    union all by name select * from history_vs_monthly
)

select
    checks.check_name,
    checks.file,
    checks.line,
    checks.subject,
    checks.stated::double as stated,
    checks.computed::double as computed,
    checks.computed::double - checks.stated::double as difference
from checks
