import type { DuckDBConnection } from '@duckdb/node-api';
import { rowsJs } from '../../pipelines/warehouse.ts';

/**
 * Features of an invoice for payment-date prediction, computed in DuckDB from the marts and
 * only from what was known on the prediction date `pred_date`: the customer's invoices
 * settled strictly before it (their days to pay and days late, plain and recency-weighted,
 * their spread and share paid late, their usual amount), the customer's overdue balance on
 * that date, and the invoice's own terms, amount, dispute flag, billing channel and month.
 *
 * Two uses: issue-time rows (`pred_date` = the invoice date), which train and test the model
 * walking forward; and as-of rows (`pred_date` = the forecast date) for the invoices open then.
 */
export interface FeatureRow {
  invoice_key: string;
  customer_key: string;
  invoice_date: string;
  due_date: string;
  pred_date: string;
  terms_days: number;
  amount_cents: number;
  open_cents: number;
  /** Outcome, when known in the data (null while open). */
  settled_date: string | null;
  days_to_pay: number | null;
  hist_n: number;
  hist_mean: number | null;
  hist_ew_mean: number | null;
  hist_sd: number | null;
  hist_share_late: number | null;
  hist_mean_late: number | null;
  hist_mean_amount: number | null;
  overdue_cents: number;
  is_disputed: boolean;
  is_electronic: boolean;
  month: number;
}

export function featureSql(target: string): string {
  return `
    with target as (${target}),
    hist as (
      select t.invoice_key,
             count(h.invoice_key) as hist_n,
             avg(h.days_to_pay) as hist_mean,
             sum(h.days_to_pay * exp(-(t.pred_date - h.settled_date) / 120.0)) / nullif(sum(exp(-(t.pred_date - h.settled_date) / 120.0)), 0) as hist_ew_mean,
             stddev_samp(h.days_to_pay) as hist_sd,
             avg(case when h.days_late > 0 then 1.0 else 0.0 end) as hist_share_late,
             avg(h.days_late) as hist_mean_late,
             avg(h.amount_cents) as hist_mean_amount
      from target t
      left join marts.fct_invoices h
        on h.customer_key = t.customer_key and h.settled_date < t.pred_date and h.days_to_pay is not null and h.invoice_key <> t.invoice_key
      group by t.invoice_key
    ),
    overdue as (
      select t.invoice_key, coalesce(sum(o.amount_cents), 0) as overdue_cents
      from target t
      left join marts.fct_invoices o
        on o.customer_key = t.customer_key and o.invoice_key <> t.invoice_key and o.invoice_date < t.pred_date
       and o.due_date < t.pred_date and (o.settled_date is null or o.settled_date >= t.pred_date) and not coalesce(o.is_cancelled, false)
      group by t.invoice_key
    )
    select t.invoice_key, t.customer_key, t.invoice_date::varchar as invoice_date, t.due_date::varchar as due_date, t.pred_date::varchar as pred_date,
           coalesce(t.terms_days, t.due_date - t.invoice_date)::integer as terms_days, t.amount_cents::bigint as amount_cents, t.open_cents::bigint as open_cents,
           t.settled_date::varchar as settled_date, t.days_to_pay,
           h.hist_n::integer as hist_n, h.hist_mean::double as hist_mean, h.hist_ew_mean::double as hist_ew_mean, h.hist_sd::double as hist_sd,
           h.hist_share_late::double as hist_share_late, h.hist_mean_late::double as hist_mean_late, h.hist_mean_amount::double as hist_mean_amount,
           o.overdue_cents::bigint as overdue_cents, coalesce(t.is_disputed, false) as is_disputed,
           coalesce(lower(t.billing_channel) in ('electronic', 'paperless', 'email'), false) as is_electronic, month(t.invoice_date)::integer as month
    from target t join hist h using (invoice_key) join overdue o using (invoice_key)
    order by t.invoice_date, t.invoice_key`;
}

const base = `select invoice_key, customer_key, invoice_date, due_date, terms_days, amount_cents, open_cents, settled_date, days_to_pay, is_disputed, billing_channel, is_cancelled`;

/** Every invoice with features as of its own issue date (training and walk-forward rows). */
export async function issueTimeFeatures(conn: DuckDBConnection): Promise<FeatureRow[]> {
  return normalise(await rowsJs(conn, featureSql(`${base}, invoice_date as pred_date from marts.fct_invoices where not coalesce(is_cancelled, false) and amount_cents > 0`)));
}

/** Invoices open on `asOf` (from metrics.ar_open_items), with features as of that date. */
export async function openItemFeatures(conn: DuckDBConnection, asOf: string): Promise<FeatureRow[]> {
  const target = `select i.invoice_key, i.customer_key, i.invoice_date, i.due_date, i.terms_days, i.amount_cents, oi.open_cents, null::date as settled_date, null::integer as days_to_pay,
                         i.is_disputed, i.billing_channel, i.is_cancelled, date '${asOf}' as pred_date
                  from metrics.ar_open_items oi join marts.fct_invoices i using (invoice_key) where oi.as_of = date '${asOf}'`;
  return normalise(await rowsJs(conn, featureSql(target)));
}

function normalise(rows: Record<string, unknown>[]): FeatureRow[] {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return rows.map((r) => ({
    ...(r as unknown as FeatureRow),
    terms_days: Number(r.terms_days),
    amount_cents: Number(r.amount_cents),
    open_cents: Number(r.open_cents),
    days_to_pay: num(r.days_to_pay),
    hist_n: Number(r.hist_n ?? 0),
    hist_mean: num(r.hist_mean),
    hist_ew_mean: num(r.hist_ew_mean),
    hist_sd: num(r.hist_sd),
    hist_share_late: num(r.hist_share_late),
    hist_mean_late: num(r.hist_mean_late),
    hist_mean_amount: num(r.hist_mean_amount),
    overdue_cents: Number(r.overdue_cents ?? 0),
    month: Number(r.month),
  }));
}
