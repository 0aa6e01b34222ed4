-- table forecast.customer_scores: One row per customer: explainable credit score (100 minus the points of its reasons), risk class A–E and a suggested credit limit (models/credit-score).
-- grain: one row per (as_of, customer_key)
-- column as_of: Date the score was computed for.
-- column customer_key: Customer (marts.dim_customer.customer_key).
-- column customer_id: The source system's customer id (the core's id for source core).
-- column source: Source of the customer (core or an extract).
-- column score: Points, 0–100: 100 plus the (negative) points of the reasons.
-- column risk_class: A (score ≥ 85), B (≥ 70), C (≥ 55), D (≥ 40), E (below).
-- column suggested_limit_cents: Suggested credit limit: the larger of the last two quarters' invoicing × 1.5 (A) … 0 (E), integer cents.
-- column reasons: JSON array of {factor, points, text}, largest deduction first.
create table if not exists forecast.customer_scores (
  as_of date, customer_key varchar, customer_id varchar, source varchar, score integer, risk_class varchar, suggested_limit_cents bigint, reasons varchar
);
