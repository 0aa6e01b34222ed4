-- table: Invoices of every source, typed. settled_date_reported is what the source says (extracts), not what the warehouse derives.
-- table: core_id is the core row's id (null for extract rows): an incremental update names the core rows it needs by it, a filter DuckDB applies while scanning.
-- grain: one row per invoice_key
with core_customers as (
  select id, payment_terms_days from staging.core_customers
),

core as (
  select
    'core:' || i.id as invoice_key,
    i.id as core_id,
    i.number as invoice_number,
    'core:' || i.customer_id as customer_key,
    case when i.order_id is null then null else 'core:' || i.order_id end as order_key,
    i.currency,
    cast(i.invoice_date as date) as invoice_date,
    cast(i.due_date as date) as due_date,
    i.total_minor as amount_cents,
    i.disputed = 1 as is_disputed,
    i.status = 'cancelled' as is_cancelled,
    i.status,
    cast(null as varchar) as billing_channel,
    cast(i.settled_date as date) as settled_date_reported,
    'core' as source
  from staging.core_invoices as i
),

extract_customers as (
  select customer_key, currency from staging.stg_customers where source <> 'core'
),

extract as (
  select
    x.source || ':' || x.invoice_id as invoice_key,
    x.invoice_id as invoice_number,
    x.source || ':' || x.customer_id as customer_key,
    case when x.order_id is null then null else x.source || ':' || x.order_id end as order_key,
    coalesce(x.currency, c.currency, 'XXX') as currency,
    cast(x.invoice_date as date) as invoice_date,
    cast(x.due_date as date) as due_date,
    units_to_minor(x.amount, coalesce(x.currency, c.currency)) as amount_cents,
    coalesce(x.disputed = 'true', false) as is_disputed,
    false as is_cancelled,
    case when x.settled_date is null then 'open' else 'paid' end as status,
    x.billing_channel,
    cast(x.settled_date as date) as settled_date_reported,
    x.source
  from raw.extract_invoices as x
  left join extract_customers as c on c.customer_key = x.source || ':' || x.customer_id
  qualify row_number() over (partition by x.source, x.invoice_id order by x.row_no desc) = 1
),

final as (
  select * from core
  union all by name
  select * from extract
)

select * from final
