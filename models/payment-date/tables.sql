-- table forecast.invoice_payment: One row per invoice open on as_of: predicted payment date with its 80 % interval, the probability of paying after the due date, and the amount at risk (models/payment-date).
-- grain: one row per (as_of, invoice_key)
-- column as_of: Date the forecast was made for (features use only what was known then).
-- column invoice_key: Invoice (marts.fct_invoices.invoice_key).
-- column customer_key: Customer (marts.dim_customer.customer_key).
-- column open_cents: Open balance on as_of, integer minor units of the invoice's currency.
-- column due_date: Due date of the invoice.
-- column predicted_date: Median predicted payment date, after as_of.
-- column p10_date: Lower end of the 80 % interval of the payment date.
-- column p90_date: Upper end of the 80 % interval of the payment date.
-- column prob_late: Probability that the invoice is paid after its due date (0–1); null when the model could not give one (see note).
-- column model: Model and version that made the forecast.
-- column amount_at_risk_cents: Amount at risk: the open balance times the probability of paying after the due date, rounded half up to whole minor units (open_cents × round(prob_late × 10000) / 10000). The collectors' worklist and the Collections report rank by it; it is not a loss.
-- column note: Why a figure of the row is missing (null when none is).
create table if not exists forecast.invoice_payment (
  as_of date, invoice_key varchar, customer_key varchar, open_cents bigint, due_date date, predicted_date date, p10_date date,
  p90_date date, prob_late double, model varchar, amount_at_risk_cents bigint, note varchar
);
