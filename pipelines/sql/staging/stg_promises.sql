-- table: Promises to pay from the core feed: a customer's promise to pay an amount by a date, and how it ended (src/collections).
-- grain: one row per promise_key
select
  'core:' || id as promise_key,
  'core:' || customer_id as customer_key,
  currency,
  amount_minor as amount_cents,
  cast(promised_date as date) as promised_date,
  cast(recorded_on as date) as recorded_on,
  status,
  paid_minor as paid_cents,
  cast(resolved_on as date) as resolved_on,
  'core' as source
from staging.core_promises_to_pay
