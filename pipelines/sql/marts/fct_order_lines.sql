-- table: Order lines (what was sold), as known on the as-of date.
-- grain: one row per order line
-- incremental key: order_key
-- partition: month of order_date
-- column order_key: Order (fct_orders)
-- column line_no: Line number within the order
-- column customer_key: Customer who ordered (dim_customer)
-- column product_key: Product sold (dim_product)
-- column order_date: Business date of the order
-- column currency: ISO 4217 currency
-- column quantity: Units ordered
-- column unit_price_cents: Price per unit, minor units
-- column gross_cents: quantity × unit price, minor units
-- column discount_cents: Line discount, minor units
-- column net_cents: Net line amount before tax, minor units
-- column tax_cents: Line tax, minor units
-- column total_cents: Line total including tax, minor units
-- column shipped_quantity: Units shipped so far (current state; null for extracts)
-- column invoiced_quantity: Units invoiced so far (current state; null for extracts)
-- column source: `core` or the extract's source name
/* changed keys:
select 'core:' || order_id as order_key from delta_staging_core_order_lines
union
-- the customer and order date come from the order
select 'core:' || id from delta_staging_core_orders
*/
select
  order_key, line_no, customer_key, product_key, order_date, currency, quantity, unit_price_cents, gross_cents,
  discount_cents, net_cents, tax_cents, total_cents, shipped_quantity, invoiced_quantity, source
from staging.stg_order_lines
where order_date <= getvariable('as_of')
