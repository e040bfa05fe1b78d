-- checks.disagreements: one row per value of marts.revisions, with `disagrees` = 1 where a
-- source other than the winner's publishes another value; the warning names both files
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
)

select
    described.bulletin as file,
    described.subject,
    described.source_line as line,
    (
        described.kind = 'disagreement'
        and not described.is_winner
        and described.value != described.winning_value
    )::int as disagrees,
    described.subject || ': ' || described.shown_value || ' (' || described.source_code
    || ') against ' || described.shown_winning_value || ' in ' || described.winning_bulletin
    || ', which wins: ' || described.reason as message
from described
