-- table: Payments of every source. An extract invoice with a settled date that its payment rows do not cover gets one synthesized payment of the remainder on that date (method 'settlement').
-- table: core_id is the core row's id (null for extract rows): an incremental update names the core rows it needs by it, a filter DuckDB applies while scanning.
-- grain: one row per payment_key
with core as (
  select
    'core:' || id as payment_key,
    id as core_id,
    'core:' || customer_id as customer_key,
    cast(payment_date as date) as payment_date,
    amount_minor as amount_cents,
    currency,
    method,
    status = 'reversed' as is_reversed,
    cast(left(reversed_at, 10) as date) as reversed_date,
    false as is_synthesized,
    cast(null as varchar) as settles_invoice_key,
    'core' as source
  from staging.core_payments
),

extract_rows as (
  select *
  from raw.extract_payments
  qualify row_number() over (partition by source, payment_id order by row_no desc) = 1
),

extract as (
  select
    p.source || ':' || p.payment_id as payment_key,
    p.source || ':' || p.customer_id as customer_key,
    cast(p.payment_date as date) as payment_date,
    units_to_minor(p.amount, coalesce(p.currency, c.currency)) as amount_cents,
    coalesce(p.currency, c.currency, 'XXX') as currency,
    coalesce(p.method, 'extract') as method,
    false as is_reversed,
    cast(null as date) as reversed_date,
    false as is_synthesized,
    cast(null as varchar) as settles_invoice_key,
    p.source
  from extract_rows as p
  left join staging.stg_customers as c on c.customer_key = p.source || ':' || p.customer_id
),

covered as (
  select p.source || ':' || p.invoice_id as invoice_key, cast(sum(units_to_minor(p.amount, coalesce(p.currency, c.currency))) as bigint) as paid_cents
  from extract_rows as p
  left join staging.stg_customers as c on c.customer_key = p.source || ':' || p.customer_id
  where p.invoice_id is not null
  group by all
),

settlements as (
  select
    i.source || ':settle:' || i.invoice_number as payment_key,
    i.customer_key,
    i.settled_date_reported as payment_date,
    i.amount_cents - coalesce(v.paid_cents, 0) as amount_cents,
    i.currency,
    'settlement' as method,
    false as is_reversed,
    cast(null as date) as reversed_date,
    true as is_synthesized,
    i.invoice_key as settles_invoice_key,
    i.source
  from staging.stg_invoices as i
  left join covered as v on v.invoice_key = i.invoice_key
  where i.source <> 'core'
    and i.settled_date_reported is not null
    and i.amount_cents - coalesce(v.paid_cents, 0) > 0
),

final as (
  select * from core
  union all by name
  select * from extract
  union all by name
  select * from settlements
)

select * from final
