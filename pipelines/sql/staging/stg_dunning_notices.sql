-- table: Dunning notices from the core feed: each invoice reaching a level of its dunning policy, in the reminder that announced it (src/collections).
-- grain: one row per notice_key
select
  'core:' || id as notice_key,
  'core:' || invoice_id as invoice_key,
  'core:' || customer_id as customer_key,
  'core:' || message_id as message_key,
  policy,
  cast(level as integer) as level,
  level_name,
  cast(notice_date as date) as notice_date,
  cast(days_past_due as integer) as days_past_due,
  balance_minor as balance_cents,
  fee_minor as fee_cents,
  interest_minor as interest_cents,
  'core' as source
from staging.core_dunning_notices
