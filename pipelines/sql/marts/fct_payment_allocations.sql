-- table: Which invoice each payment paid, as known on the as-of date.
-- grain: one row per allocation of a payment to an invoice
-- incremental key: allocation_key
-- partition: month of applied_date
-- column allocation_key: Warehouse key of the allocation
-- column payment_key: Payment (fct_payments)
-- column invoice_key: Invoice paid (fct_invoices)
-- column customer_key: Paying customer (dim_customer)
-- column applied_date: The payment's date
-- column allocated_on: Date the payment was applied to the invoice (later than applied_date when applied by hand afterwards)
-- column effective_date: The later of applied_date and allocated_on: the date the invoice balance fell
-- column amount_cents: Amount applied, minor units
-- column rule: How the cash was matched (reference, exact_amount, oldest_due, unapplied_credit, manual, settlement, extract)
-- column is_reversed: True when the payment was reversed on or before the as-of date
-- column reversed_date: Date of the reversal, when reversed by the as-of date
-- column source: `core` or the extract's source name
/* changed keys:
select 'core:' || id as allocation_key from delta_staging_core_payment_allocations
union
-- a payment's date and reversal are its allocations' too
select 'core:' || a.id from staging.core_payment_allocations as a where a.payment_id in (select id from delta_staging_core_payments)
*/
select
  allocation_key,
  payment_key,
  invoice_key,
  customer_key,
  payment_date as applied_date,
  applied_on as allocated_on,
  effective_date,
  amount_cents,
  rule,
  coalesce(is_reversed and reversed_date <= getvariable('as_of'), false) as is_reversed,
  case when is_reversed and reversed_date <= getvariable('as_of') then reversed_date end as reversed_date,
  source
from staging.stg_payment_allocations
where effective_date <= getvariable('as_of')
  -- An update in place runs only when no extract was loaded, so every changed key is a core one;
  -- the range of their ids (set by the runner) lets the scan skip row groups outside it.
  /*incremental: and core_id between getvariable('incremental_core_id_min') and getvariable('incremental_core_id_max')
    and core_id in (select cast(substr(allocation_key, 6) as bigint) from incremental_keys where allocation_key like 'core:%') */
