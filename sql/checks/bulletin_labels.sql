-- checks.bulletin_labels: one row per bulletin and dimension: how many of its labels resolve to
-- no code, and every one of them with its first place (page and line); the bulletin suite asserts
-- there are none
with staged as (
    select * from staged_observations
),

-- one pass over the rows: each combination of unresolved labels once, with its first place
combinations as materialized (
    select
        staged.file,
        staged.unresolved_organiser,
        staged.unresolved_country,
        staged.unresolved_category,
        staged.unresolved_channel,
        min(staged.place) as place
    from staged
    group by all
),

labels as (
    select combinations.file, 'organiser' as dimension, combinations.unresolved_organiser as label,
        combinations.place
    from combinations
    where combinations.unresolved_organiser is not null
    union all
    select combinations.file, 'country', combinations.unresolved_country, combinations.place
    from combinations
    where combinations.unresolved_country is not null
    union all
    select combinations.file, 'category', combinations.unresolved_category, combinations.place
    from combinations
    where combinations.unresolved_category is not null
    union all
    select combinations.file, 'channel', combinations.unresolved_channel, combinations.place
    from combinations
    where combinations.unresolved_channel is not null
),

distinct_labels as (
    select labels.file, labels.dimension, labels.label, min(labels.place) as place
    from labels
    group by labels.file, labels.dimension, labels.label
),

files as (
    select distinct combinations.file from combinations
),

dimensions as (
    select unnest(['organiser', 'country', 'category', 'channel']) as dimension
)

select
    -- keys
    files.file,
    dimensions.dimension,
    dimensions.dimension as subject,
    -- what did not resolve
    count(distinct_labels.label) as unresolved_labels,
    place_line(min(distinct_labels.place)) as line,
    place_page(min(distinct_labels.place)) as page,
    'no ' || dimensions.dimension || ' code for '
    || string_agg(
        '''' || distinct_labels.label || ''' (' || place_text(distinct_labels.place) || ')', ', '
        order by distinct_labels.place, distinct_labels.label
    ) as message
from files
cross join dimensions
left join distinct_labels
    on distinct_labels.file = files.file and distinct_labels.dimension = dimensions.dimension
group by files.file, dimensions.dimension
