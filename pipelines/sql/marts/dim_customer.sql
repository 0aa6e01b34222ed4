-- table: Customers, one per source customer. Segment for the IBM sample is the country code (the file has no other grouping).
-- grain: one row per customer
-- column customer_key: Warehouse key `<source>:<id>`, e.g. `core:42` or `ibm-ar:0379-NEVHP`
-- column customer_id: The customer's id in its source system
-- column customer_name: Name (null when the source gives none)
-- column country: Country as the source spells it
-- column segment: Customer segment (core: as entered; IBM sample: the country code)
-- column currency: ISO 4217 currency the customer is billed in
-- column credit_limit_cents: Credit limit in minor units of currency (integer)
-- column payment_terms_days: Payment terms in days
-- column risk_class: Risk class A–E from credit scoring (null when never scored)
-- column status: active or blocked
-- column source: Where the row came from: `core` or the extract's source name
select
  customer_key,
  customer_id,
  customer_name,
  country,
  segment,
  currency,
  credit_limit_cents,
  payment_terms_days,
  risk_class,
  status,
  source
from staging.stg_customers
