-- table: Products of the catalogue.
-- grain: one row per product
-- column product_key: Warehouse key `<source>:<id>`
-- column sku: Stock-keeping unit (extracts: the product id)
-- column product_name: Name
-- column category: Product category
-- column currency: Currency of the list price (null for extracts that do not say)
-- column list_price_cents: List price per unit in minor units
-- column unit_cost_cents: Unit cost in minor units
-- column source: `core` or the extract's source name
select product_key, sku, product_name, category, currency, list_price_cents, unit_cost_cents, source
from staging.stg_products
