-- table: Everything that moved an invoice's balance after it was issued, signed (negative lowers the balance): payments applied, reversals of them, credit notes, write-offs. The balance of an invoice on a date is its amount plus the movements dated on or before it.
-- grain: one row per movement
-- incremental key: invoice_key
-- partition: month of movement_date
-- column invoice_key: Invoice (fct_invoices)
-- column movement_date: Business date of the movement
-- column kind: payment, payment_reversal, credit_note or write_off
-- column document_key: The payment allocation, credit note or write-off behind it
-- column amount_cents: Signed change of the balance, minor units
/* changed keys:
select invoice_key from delta_marts_fct_payment_allocations
union select invoice_key from delta_marts_fct_credit_notes
union select invoice_key from delta_marts_fct_write_offs
*/
with payments as (
  select invoice_key, effective_date as movement_date, 'payment' as kind, allocation_key as document_key, -amount_cents as amount_cents
  from marts.fct_payment_allocations
  /*incremental: where invoice_key in (select invoice_key from incremental_keys) */
),

reversals as (
  select invoice_key, greatest(reversed_date, effective_date) as movement_date, 'payment_reversal' as kind, allocation_key as document_key, amount_cents
  from marts.fct_payment_allocations
  where is_reversed /*incremental: and invoice_key in (select invoice_key from incremental_keys) */
),

credits as (
  select invoice_key, credit_date as movement_date, 'credit_note' as kind, credit_note_key as document_key, -amount_cents as amount_cents
  from marts.fct_credit_notes
  /*incremental: where invoice_key in (select invoice_key from incremental_keys) */
),

write_offs as (
  select invoice_key, write_off_date as movement_date, 'write_off' as kind, write_off_key as document_key, -amount_cents as amount_cents
  from marts.fct_write_offs
  /*incremental: where invoice_key in (select invoice_key from incremental_keys) */
),

final as (
  select * from payments
  union all select * from reversals
  union all select * from credits
  union all select * from write_offs
)

select * from final
