-- table forecast.customer_payment_cycle: One row per customer with settled invoices: distribution, trend and reliability of its days to pay, and when its next payment is expected (models/payment-cycle).
-- grain: one row per (as_of, customer_key)
-- column as_of: Date the cycle was measured for (invoices settled by then).
-- column customer_key: Customer (marts.dim_customer.customer_key).
-- column invoices_paid: Invoices settled by as_of.
-- column p10_days: 10th percentile of days to pay.
-- column median_days: Median days to pay.
-- column p90_days: 90th percentile of days to pay.
-- column mean_days: Mean days to pay (the baseline).
-- column trend_days_per_quarter: Least-squares slope of days to pay against invoice date, days per quarter (positive: paying later).
-- column reliability: Share of payments within 7 days of the customer's median (0–1).
-- column next_expected_payment_date: Earliest predicted payment date of its open invoices (forecast.invoice_payment).
-- column open_cents: Open balance on as_of, integer cents.
create table if not exists forecast.customer_payment_cycle (
  as_of date, customer_key varchar, invoices_paid bigint, p10_days double, median_days double, p90_days double, mean_days double,
  trend_days_per_quarter double, reliability double, next_expected_payment_date date, open_cents hugeint
);
