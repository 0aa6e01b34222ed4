-- table: Everything that moved an invoice's balance after it was issued, signed (negative lowers the balance): payments applied, reversals of them, credit notes, write-offs. The balance of an invoice on a date is its amount plus the movements dated on or before it.
-- grain: one row per movement
-- column invoice_key: Invoice (fct_invoices)
-- column movement_date: Business date of the movement
-- column kind: payment, payment_reversal, credit_note or write_off
-- column document_key: The payment allocation, credit note or write-off behind it
-- column amount_cents: Signed change of the balance, minor units
with payments as (
  select invoice_key, effective_date as movement_date, 'payment' as kind, allocation_key as document_key, -amount_cents as amount_cents
  from marts.fct_payment_allocations
),

reversals as (
  select invoice_key, greatest(reversed_date, effective_date) as movement_date, 'payment_reversal' as kind, allocation_key as document_key, amount_cents
  from marts.fct_payment_allocations
  where is_reversed
),

credits as (
  select invoice_key, credit_date as movement_date, 'credit_note' as kind, credit_note_key as document_key, -amount_cents as amount_cents
  from marts.fct_credit_notes
),

write_offs as (
  select invoice_key, write_off_date as movement_date, 'write_off' as kind, write_off_key as document_key, -amount_cents as amount_cents
  from marts.fct_write_offs
),

final as (
  select * from payments
  union all select * from reversals
  union all select * from credits
  union all select * from write_offs
)

select * from final
