-- table: Dunning reminders sent up to the as-of date: each invoice reaching a level of its customer's dunning policy, in the reminder that announced it.
-- grain: one row per invoice and level reached (a dunning notice)
-- incremental key: reminder_key
-- partition: month of notice_date
-- column reminder_key: Warehouse key `<source>:<id>` of the dunning notice
-- column invoice_key: Invoice reminded of (fct_invoices)
-- column customer_key: Customer reminded (dim_customer)
-- column message_key: The reminder message that carried the notice (one message can remind of several invoices)
-- column currency: ISO 4217 currency of the invoice
-- column policy: Dunning policy the level belongs to
-- column level: Level reached (1 = first reminder)
-- column level_name: The level's name in the policy
-- column notice_date: Business date of the reminder
-- column days_past_due: Days the invoice was past due on the reminder's date
-- column balance_cents: Invoice balance reminded of, minor units
-- column fee_cents: Reminder fee charged at this level, minor units
-- column interest_cents: Late interest stated at this level, minor units
-- column source: `core`
/* changed keys:
select 'core:' || id as reminder_key from delta_staging_core_dunning_notices
union
-- the currency comes from the invoice
select 'core:' || n.id from staging.core_dunning_notices as n where n.invoice_id in (select id from delta_staging_core_invoices)
*/
select
  'core:' || n.id as reminder_key,
  'core:' || n.invoice_id as invoice_key,
  'core:' || n.customer_id as customer_key,
  'core:' || n.message_id as message_key,
  i.currency,
  n.policy,
  cast(n.level as integer) as level,
  n.level_name,
  cast(n.notice_date as date) as notice_date,
  cast(n.days_past_due as integer) as days_past_due,
  n.balance_minor as balance_cents,
  n.fee_minor as fee_cents,
  n.interest_minor as interest_cents,
  'core' as source
from staging.core_dunning_notices as n
left join staging.core_invoices as i on i.id = n.invoice_id
where cast(n.notice_date as date) <= getvariable('as_of')
