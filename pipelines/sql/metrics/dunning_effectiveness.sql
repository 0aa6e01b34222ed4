-- table: Dunning effectiveness: of the invoices reminded at each dunning level, how many were settled within 7, 14 and 30 days of the reminder, and what share of the reminded balance was paid in that window. Only reminders whose window ended by the as-of date count, so a young reminder never looks unsuccessful.
-- grain: one row per source, policy, level and window_days
-- column source: `core` (extracts carry no reminders)
-- column policy: Dunning policy the level belongs to
-- column level: Level number, 1 = first
-- column level_name: Level name as printed on the letter
-- column window_days: Days after the reminder: 7, 14 or 30
-- column notices: Reminders at this level whose window had ended by the as-of date
-- column settled: Of those, invoices whose balance reached zero within the window (payment, credit note or write-off)
-- column share_settled: settled / notices
-- column reminded_cents: Open balance of those invoices on their reminder day, minor units
-- column collected_cents: Payments (net of reversals) applied to them within the window, minor units, capped per invoice at its reminded balance
-- column share_collected: collected_cents / reminded_cents
-- column as_of: The run's as-of date
with notices as (
  select * from staging.stg_dunning_notices where notice_date <= getvariable('as_of')
),

windows as (
  select * from (values (7), (14), (30)) as w(window_days)
),

matured as (
  select n.*, w.window_days, n.notice_date + w.window_days as window_end
  from notices as n cross join windows as w
  where n.notice_date + w.window_days <= getvariable('as_of')
),

-- Only the reminded invoices are read from the marts (a small share of all invoices).
reminded_invoices as (
  select invoice_key, amount_cents from marts.fct_invoices
  where invoice_key in (select invoice_key from matured)
),

reminded_movements as (
  select invoice_key, movement_date, kind, amount_cents from marts.fct_invoice_movements
  where invoice_key in (select invoice_key from matured)
),

outcomes as (
  select
    m.source, m.policy, m.level, m.level_name, m.window_days, m.notice_key, m.balance_cents,
    i.amount_cents + coalesce(sum(mv.amount_cents) filter (where mv.movement_date <= m.window_end), 0) as balance_at_window_end,
    -coalesce(sum(mv.amount_cents) filter (where mv.kind in ('payment', 'payment_reversal') and mv.movement_date > m.notice_date and mv.movement_date <= m.window_end), 0) as paid_in_window
  from matured as m
  join reminded_invoices as i on i.invoice_key = m.invoice_key
  left join reminded_movements as mv on mv.invoice_key = m.invoice_key
  group by m.source, m.policy, m.level, m.level_name, m.window_days, m.notice_key, m.balance_cents, i.amount_cents
),

final as (
  select
    source, policy, level, level_name, window_days,
    count(*) as notices,
    count(*) filter (where balance_at_window_end <= 0) as settled,
    count(*) filter (where balance_at_window_end <= 0) / count(*) as share_settled,
    sum(balance_cents) as reminded_cents,
    sum(least(greatest(paid_in_window, 0), balance_cents)) as collected_cents,
    case when sum(balance_cents) > 0 then sum(least(greatest(paid_in_window, 0), balance_cents)) / sum(balance_cents) end as share_collected,
    cast(getvariable('as_of') as date) as as_of
  from outcomes
  group by source, policy, level, level_name, window_days, as_of
)

select * from final order by source, policy, level, window_days
