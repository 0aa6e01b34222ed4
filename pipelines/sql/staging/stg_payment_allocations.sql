-- table: What each payment paid: core allocations, extract payment rows naming an invoice, and synthesized settlements. effective_date is when the money reached the invoice (the later of payment date and application date).
-- table: core_id is the core row's id (null for extract rows): an incremental update names the core rows it needs by it, a filter DuckDB applies while scanning.
-- grain: one row per allocation_key
with core_payments as (
  select id, customer_id, payment_date, status, reversed_at from staging.core_payments
),

core as (
  select
    'core:' || a.id as allocation_key,
    a.id as core_id,
    'core:' || a.payment_id as payment_key,
    'core:' || a.invoice_id as invoice_key,
    'core:' || p.customer_id as customer_key,
    cast(p.payment_date as date) as payment_date,
    cast(a.applied_on as date) as applied_on,
    greatest(cast(p.payment_date as date), cast(a.applied_on as date)) as effective_date,
    a.amount_minor as amount_cents,
    a.rule,
    a.reversed = 1 as is_reversed,
    case when a.reversed = 1 then coalesce(cast(left(p.reversed_at, 10) as date), cast(a.applied_on as date)) end as reversed_date,
    'core' as source
  from staging.core_payment_allocations as a
  join core_payments as p on p.id = a.payment_id
),

extract as (
  select
    p.source || ':alloc:' || p.payment_id as allocation_key,
    p.source || ':' || p.payment_id as payment_key,
    p.source || ':' || p.invoice_id as invoice_key,
    p.source || ':' || p.customer_id as customer_key,
    cast(p.payment_date as date) as payment_date,
    cast(p.payment_date as date) as applied_on,
    cast(p.payment_date as date) as effective_date,
    units_to_minor(p.amount, coalesce(p.currency, c.currency)) as amount_cents,
    'extract' as rule,
    false as is_reversed,
    cast(null as date) as reversed_date,
    p.source
  from raw.extract_payments as p
  left join staging.stg_customers as c on c.customer_key = p.source || ':' || p.customer_id
  where p.invoice_id is not null
  qualify row_number() over (partition by p.source, p.payment_id order by p.row_no desc) = 1
),

settlements as (
  select
    s.payment_key as allocation_key,
    s.payment_key,
    s.settles_invoice_key as invoice_key,
    s.customer_key,
    s.payment_date,
    s.payment_date as applied_on,
    s.payment_date as effective_date,
    s.amount_cents,
    'settlement' as rule,
    false as is_reversed,
    cast(null as date) as reversed_date,
    s.source
  from staging.stg_payments as s
  where s.is_synthesized
),

final as (
  select * from core
  union all by name
  select * from extract
  union all by name
  select * from settlements
)

select * from final
