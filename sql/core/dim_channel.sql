-- core.dim_channel: one row per channel of application (and _T, all channels)
with source as (
    select * from reference_channel
)

select
    -- keys
    surrogate_key('channel', source.channel_code) as channel_key,
    source.channel_code,
    -- names
    source.name_nl,
    source.name_fr,
    source.name_en
from source
