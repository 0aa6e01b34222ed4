-- table: Credit notes issued up to the as-of date.
-- grain: one row per credit note
-- incremental key: credit_note_key
-- partition: month of credit_date
-- column credit_note_key: Warehouse key `<source>:<id>`
-- column credit_note_number: Document number
-- column invoice_key: Invoice credited (fct_invoices)
-- column customer_key: Customer (dim_customer)
-- column currency: ISO 4217 currency
-- column credit_date: Business date of the credit note
-- column amount_cents: Amount credited, minor units
-- column kind: return, price_correction, dispute, early_payment_discount, other
-- column reason: Reason given
-- column source: `core`
/* changed keys:
select 'core:' || id as credit_note_key from delta_staging_core_credit_notes
*/
select credit_note_key, credit_note_number, invoice_key, customer_key, currency, credit_date, amount_cents, kind, reason, source
from staging.stg_credit_notes
where credit_date <= getvariable('as_of')
