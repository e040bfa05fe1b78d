-- checks.disagreements: one row per file of marts.revisions, `disagrees` counting its values
-- that a source other than the winner's contradicts; the warning names both files of each of
-- its first five, in line order. One row per file, not per value: 10,000 overlapping editions
-- give hundreds of thousands of values, too many for Great Expectations to list one by one.
with revisions as (
    select * from marts.revisions
),

described as (
    select
        revisions.*,
        revisions.period_code || ' '
        || coalesce(
            nullif(
                concat_ws(
                    ' ',
                    nullif(revisions.organiser_code, '_T'),
                    nullif(revisions.country_code, '_T'),
                    nullif(revisions.category_code, '_T'),
                    nullif(revisions.channel_code, '_T')
                ),
                ''
            ),
            'total'
        )
        || if(revisions.measure = 'share_pct', ' share_pct', '') as subject,
        if(
            revisions.measure = 'returns',
            revisions.value::bigint::varchar,
            revisions.value::varchar
        ) as shown_value,
        if(
            revisions.measure = 'returns',
            revisions.winning_value::bigint::varchar,
            revisions.winning_value::varchar
        ) as shown_winning_value
    from revisions
),

contradicted as (
    select
        described.bulletin as file,
        described.subject,
        described.source_line as line,
        described.subject || ': ' || described.shown_value || ' (' || described.source_code
        || ') against ' || described.shown_winning_value || ' in '
        || described.winning_bulletin || ', which wins: ' || described.reason as message,
        row_number() over (
            partition by described.bulletin
            order by
                described.source_line asc nulls last, described.period_start,
                described.period_end, described.organiser_code, described.country_code,
                described.category_code, described.channel_code, described.measure
        ) as place
    from described
    where
        described.kind = 'disagreement'
        and not described.is_winner
        and described.value != described.winning_value
),

files as (
    select distinct revisions.bulletin as file from revisions
)

select
    files.file,
    arg_min(contradicted.subject, contradicted.place) as subject,
    min(contradicted.line) as line,
    count(contradicted.file) as disagrees,
    string_agg(contradicted.message, '; ' order by contradicted.place) filter (
        where contradicted.place <= 5
    )
    || if(count(contradicted.file) > 5, ' and ' || count(contradicted.file) - 5 || ' more', '')
        as message
from files
left join contradicted on contradicted.file = files.file
group by files.file
