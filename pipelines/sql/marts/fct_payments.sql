-- table: Payments received up to the as-of date. Extract invoices settled without a payment row get a synthesized payment on their settled date (method `settlement`).
-- grain: one row per payment
-- incremental key: payment_key
-- partition: month of payment_date
-- column payment_key: Warehouse key `<source>:<id>` (synthesized: `<source>:settle:<invoice number>`)
-- column customer_key: Paying customer (dim_customer)
-- column payment_date: Date the money was received
-- column amount_cents: Amount received, minor units
-- column currency: ISO 4217 currency
-- column method: Payment method (transfer, card, …; `settlement` when synthesized)
-- column is_reversed: True when reversed on or before the as-of date
-- column reversed_date: Date of the reversal (null when not reversed by the as-of date)
-- column is_synthesized: True for a payment derived from an extract's settled date
-- column source: `core` or the extract's source name
/* changed keys:
select 'core:' || id as payment_key from delta_staging_core_payments
*/
select
  payment_key,
  customer_key,
  payment_date,
  amount_cents,
  currency,
  method,
  coalesce(is_reversed and reversed_date <= getvariable('as_of'), false) as is_reversed,
  case when is_reversed and reversed_date <= getvariable('as_of') then reversed_date end as reversed_date,
  is_synthesized,
  source
from staging.stg_payments
where payment_date <= getvariable('as_of')
  -- An update in place runs only when no extract was loaded, so every changed key is a core one;
  -- the range of their ids (set by the runner) lets the scan skip row groups outside it.
  /*incremental: and core_id between getvariable('incremental_core_id_min') and getvariable('incremental_core_id_max')
    and core_id in (select cast(substr(payment_key, 6) as bigint) from incremental_keys where payment_key like 'core:%') */
