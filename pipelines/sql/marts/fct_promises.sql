-- table: Promises to pay recorded up to the as-of date, each with its outcome as known on that date (a promise kept or broken later is still open here).
-- grain: one row per promise
-- incremental key: promise_key
-- partition: month of recorded_on
-- column promise_key: Warehouse key `<source>:<id>`
-- column customer_key: Customer who promised (dim_customer)
-- column currency: ISO 4217 currency of the amount
-- column amount_cents: Amount promised, minor units
-- column promised_date: Date the customer promised to pay by
-- column recorded_on: Business date the promise was recorded
-- column status: open, kept, broken or cancelled, as of the as-of date
-- column is_kept: The promise was kept (paid in full by the promised date and its grace days)
-- column is_broken: The promise was broken (not paid in full in time)
-- column paid_cents: Paid towards the promise when it was resolved, minor units (0 while open)
-- column resolved_on: Date the promise was kept, broken or cancelled; null while open
-- column source: `core`
/* changed keys:
select 'core:' || id as promise_key from delta_staging_core_promises_to_pay
*/
with p as (
  select *, resolved_on is not null and resolved_on <= getvariable('as_of') as resolved
  from staging.stg_promises
  where recorded_on <= getvariable('as_of')
)
select
  promise_key,
  customer_key,
  currency,
  amount_cents,
  promised_date,
  recorded_on,
  case when resolved then status else 'open' end as status,
  resolved and status = 'kept' as is_kept,
  resolved and status = 'broken' as is_broken,
  case when resolved then paid_cents else 0 end as paid_cents,
  case when resolved then resolved_on end as resolved_on,
  source
from p
