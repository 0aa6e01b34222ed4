import type { DuckDBConnection } from '@duckdb/node-api';
import { currencyExponent } from '../../src/shared/money.ts';
import { emptyColumns, type HazardColumns } from './columns.ts';

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
  /** ISO 4217 currency of the invoice: its amounts are minor units of it. */
  currency: string;
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

/**
 * The feature query over `target` (invoice_key, customer_key, pred_date and the invoice's own
 * columns). Linear in the number of invoices: each customer's history is kept as running
 * totals by date (settlements by settlement date; due and settled amounts by the day they
 * became overdue or were cleared), and each target row takes the last running total
 * strictly before its prediction date with an ASOF join. The recency weight
 * exp(−(pred − settled)/120) is split into exp(settled/120) summed in the running total and
 * exp(−pred/120), which cancels in the weighted mean. A target's own invoice is taken back
 * out where it would count (an overdue open invoice is not its own overdue balance).
 */
/**
 * The invoices as the payment-date model reads them (marts.fct_invoices with its own days to
 * pay and days late). A write-off is not a payment: an invoice counts as paid only when
 * payments cleared it, on the day of its last payment — a remainder written off afterwards
 * within 5 % of the invoice or 500 minor units (the core's default write-off tolerance: bank
 * charges, a short payment) does not move that day. An invoice settled by a larger write-off
 * (bad debt) or without any payment (a credit note) has no days to pay: the hazard fit counts
 * it as open until the day it was settled (censored there), and the replay scores no payment
 * date on it. On the demo companies every bad debt is above both bounds and every bank charge
 * within them; an extract has no write-offs.
 */
export const PAID_INVOICES = `(
  select i.* replace (
    (case when i.days_to_pay is not null and coalesce(i.written_off_cents, 0) <= greatest(0.05 * i.amount_cents, 500)
          then least(coalesce(p.last_paid, i.settled_date), i.settled_date) - i.invoice_date end)::integer as days_to_pay,
    (case when i.days_to_pay is not null and coalesce(i.written_off_cents, 0) <= greatest(0.05 * i.amount_cents, 500)
          then greatest(0, least(coalesce(p.last_paid, i.settled_date), i.settled_date) - i.due_date) end)::integer as days_late)
  from marts.fct_invoices i
  left join (
    -- The last payment standing, read only for the invoices something was written off from.
    select invoice_key, max(effective_date) as last_paid from marts.fct_payment_allocations
    where not coalesce(is_reversed, false) and invoice_key in (select invoice_key from marts.fct_invoices where written_off_cents > 0)
    group by invoice_key
  ) p on p.invoice_key = i.invoice_key
)`;

export function featureSql(target: string): string {
  // Days since 2000-01-01 keep exp(days/120) far from overflow (about e^300 in 2100).
  const day = (col: string) => `(${col} - date '2000-01-01')`;
  return `
    with target as (${target}),
    paid as (
      select customer_key, settled_date as k, count(*) as n, sum(days_to_pay) as s_days, sum(days_to_pay * days_to_pay) as s_days2,
             sum(days_to_pay * exp(${day('settled_date')} / 120.0)) as s_days_w, sum(exp(${day('settled_date')} / 120.0)) as s_w,
             sum(case when days_late > 0 then 1 else 0 end) as n_late, sum(days_late) as s_late, sum(amount_cents) as s_amount
      from ${PAID_INVOICES}
      where days_to_pay is not null and settled_date is not null
      group by all
    ),
    paid_running as (
      select customer_key, k, sum(n) over w as n, sum(s_days) over w as s_days, sum(s_days2) over w as s_days2, sum(s_days_w) over w as s_days_w,
             sum(s_w) over w as s_w, sum(n_late) over w as n_late, sum(s_late) over w as s_late, sum(s_amount) over w as s_amount
      from paid
      window w as (partition by customer_key order by k rows between unbounded preceding and current row)
    ),
    overdue_from as (
      select customer_key, greatest(invoice_date, due_date) as k, sum(amount_cents) as amount
      from marts.fct_invoices where not coalesce(is_cancelled, false) group by all
    ),
    overdue_from_running as (
      select customer_key, k, sum(amount) over (partition by customer_key order by k rows between unbounded preceding and current row) as amount from overdue_from
    ),
    overdue_cleared as (
      select customer_key, greatest(invoice_date, due_date, settled_date) as k, sum(amount_cents) as amount
      from marts.fct_invoices where not coalesce(is_cancelled, false) and settled_date is not null group by all
    ),
    overdue_cleared_running as (
      select customer_key, k, sum(amount) over (partition by customer_key order by k rows between unbounded preceding and current row) as amount from overdue_cleared
    ),
    joined as (
      select t.*,
             -- The target's own invoice, where it would count in its own history: paid before the
             -- prediction date (never, with clean data) or overdue and still open on it.
             coalesce(t.days_to_pay is not null and t.settled_date < t.pred_date, false) as own_paid,
             coalesce(not coalesce(t.is_cancelled, false) and greatest(t.invoice_date, t.due_date) < t.pred_date
                      and (t.settled_date is null or t.settled_date >= t.pred_date), false) as own_overdue,
             p.n as run_n, p.s_days as run_days, p.s_days2 as run_days2, p.s_days_w as run_days_w, p.s_w as run_w,
             p.n_late as run_late_n, p.s_late as run_late, p.s_amount as run_amount,
             f.amount as run_overdue_from, c.amount as run_overdue_cleared
      from target t
      asof left join paid_running p on p.customer_key = t.customer_key and t.pred_date > p.k
      asof left join overdue_from_running f on f.customer_key = t.customer_key and t.pred_date > f.k
      asof left join overdue_cleared_running c on c.customer_key = t.customer_key and t.pred_date > c.k
    ),
    own_removed as (
      select *,
             coalesce(run_n, 0) - case when own_paid then 1 else 0 end as n,
             coalesce(run_days, 0) - case when own_paid then days_to_pay else 0 end as s_days,
             coalesce(run_days2, 0) - case when own_paid then days_to_pay * days_to_pay else 0 end as s_days2,
             coalesce(run_days_w, 0) - case when own_paid then days_to_pay * exp(${day('settled_date')} / 120.0) else 0 end as s_days_w,
             coalesce(run_w, 0) - case when own_paid then exp(${day('settled_date')} / 120.0) else 0 end as s_w,
             coalesce(run_late_n, 0) - case when own_paid and days_late > 0 then 1 else 0 end as n_late,
             coalesce(run_late, 0) - case when own_paid then days_late else 0 end as s_late,
             coalesce(run_amount, 0) - case when own_paid then amount_cents else 0 end as s_amount,
             coalesce(run_overdue_from, 0) - coalesce(run_overdue_cleared, 0) - case when own_overdue then amount_cents else 0 end as overdue_cents
      from joined
    ),
    final as (
      select invoice_key, customer_key, currency, invoice_date::varchar as invoice_date, due_date::varchar as due_date, pred_date::varchar as pred_date,
             coalesce(terms_days, due_date - invoice_date)::integer as terms_days, amount_cents::bigint as amount_cents, open_cents::bigint as open_cents,
             settled_date::varchar as settled_date, days_to_pay,
             n::integer as hist_n,
             (case when n > 0 then s_days / n end)::double as hist_mean,
             (case when n > 0 and s_w > 0 then s_days_w / s_w end)::double as hist_ew_mean,
             (case when n > 1 then sqrt(greatest(0, (s_days2 - s_days * s_days / n) / (n - 1))) end)::double as hist_sd,
             -- 0 (not null) without history, as the model has always been fitted.
             (case when n > 0 then n_late / n else 0 end)::double as hist_share_late,
             (case when n > 0 then s_late / n end)::double as hist_mean_late,
             (case when n > 0 then s_amount / n end)::double as hist_mean_amount,
             overdue_cents::bigint as overdue_cents, coalesce(is_disputed, false) as is_disputed,
             coalesce(lower(billing_channel) in ('electronic', 'paperless', 'email'), false) as is_electronic, month(invoice_date)::integer as month
      from own_removed
    )
    select * from final order by invoice_date, invoice_key`;
}

const base = `select invoice_key, customer_key, currency, invoice_date, due_date, terms_days, amount_cents, open_cents, settled_date, days_to_pay, days_late, is_disputed, billing_channel, is_cancelled`;

/** Every invoice with features as of its own issue date (training and walk-forward rows). */
export async function issueTimeFeatures(conn: DuckDBConnection): Promise<FeatureRow[]> {
  return readFeatures(conn, featureSql(`${base}, invoice_date as pred_date from ${PAID_INVOICES} where not coalesce(is_cancelled, false) and amount_cents > 0`));
}

/** Invoices open on `asOf` (from metrics.ar_open_items), with features as of that date. */
export async function openItemFeatures(conn: DuckDBConnection, asOf: string): Promise<FeatureRow[]> {
  const target = `select i.invoice_key, i.customer_key, i.currency, i.invoice_date, i.due_date, i.terms_days, i.amount_cents, oi.open_cents, null::date as settled_date, null::integer as days_to_pay,
                         null::integer as days_late, i.is_disputed, i.billing_channel, i.is_cancelled, date '${asOf}' as pred_date
                  from metrics.ar_open_items oi join marts.fct_invoices i using (invoice_key) where oi.as_of = date '${asOf}'`;
  return readFeatures(conn, featureSql(target));
}

/**
 * Runs the feature query and builds the rows from its columns: one object per invoice and no
 * BigInt on the way (money arrives as DOUBLE, exact below 2^53 cents), which keeps a million
 * rows to seconds.
 */
async function readFeatures(conn: DuckDBConnection, sql: string): Promise<FeatureRow[]> {
  const reader = await conn.runAndReadAll(
    `select * replace (amount_cents::double as amount_cents, open_cents::double as open_cents, overdue_cents::double as overdue_cents) from (${sql})`,
  );
  const c = reader.getColumnsObjectJS() as Record<keyof FeatureRow, unknown[]>;
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const n = c.invoice_key.length;
  const out = new Array<FeatureRow>(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      invoice_key: c.invoice_key[i] as string,
      customer_key: c.customer_key[i] as string,
      currency: c.currency[i] as string,
      invoice_date: c.invoice_date[i] as string,
      due_date: c.due_date[i] as string,
      pred_date: c.pred_date[i] as string,
      terms_days: Number(c.terms_days[i]),
      amount_cents: Number(c.amount_cents[i]),
      open_cents: Number(c.open_cents[i]),
      settled_date: (c.settled_date[i] as string | null) ?? null,
      days_to_pay: num(c.days_to_pay[i]),
      hist_n: Number(c.hist_n[i] ?? 0),
      hist_mean: num(c.hist_mean[i]),
      hist_ew_mean: num(c.hist_ew_mean[i]),
      hist_sd: num(c.hist_sd[i]),
      hist_share_late: num(c.hist_share_late[i]),
      hist_mean_late: num(c.hist_mean_late[i]),
      hist_mean_amount: num(c.hist_mean_amount[i]),
      overdue_cents: Number(c.overdue_cents[i] ?? 0),
      is_disputed: c.is_disputed[i] === true,
      is_electronic: c.is_electronic[i] === true,
      month: Number(c.month[i]),
    };
  }
  return out;
}

/**
 * The invoices the hazard model fits on, as columns (`HazardColumns`) straight from the feature
 * query: days as integers since 1970-01-01, a customer index, flags and the overdue balance in
 * typed arrays, read column by column — no row object per invoice, which at a million invoices
 * spares seconds and a gigabyte. Same invoices and order as `issueTimeFeatures`.
 */
export async function issueTimeColumns(conn: DuckDBConnection): Promise<HazardColumns> {
  const reader = await conn.runAndReadAll(`
    with f as (${featureSql(`${base}, invoice_date as pred_date from ${PAID_INVOICES} where not coalesce(is_cancelled, false) and amount_cents > 0`)})
    select dense_rank() over (order by customer_key)::integer - 1 as customer, customer_key, currency,
           (invoice_date::date - date '1970-01-01')::integer as issued, (coalesce(due_date::date, invoice_date::date + terms_days) - date '1970-01-01')::integer as due,
           (coalesce(invoice_date::date + days_to_pay, settled_date::date) - date '1970-01-01')::integer as settled, (days_to_pay is not null) as counted,
           amount_cents::double as amount, terms_days::integer as terms, is_disputed, is_electronic, overdue_cents::double as overdue
    from f order by invoice_date, invoice_key`);
  const c = reader.getColumnsObjectJS() as Record<string, unknown[]>;
  const n = c.customer!.length;
  const out = emptyColumns(n);
  const keys: string[] = [];
  const exponents = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = c.customer![i] as number;
    out.customer[i] = k;
    keys[k] ??= c.customer_key![i] as string;
    out.issued[i] = c.issued![i] as number;
    out.due[i] = c.due![i] as number;
    const s = c.settled![i];
    if (s !== null && s !== undefined) out.settled[i] = s as number;
    out.counted[i] = c.counted![i] === true ? 1 : 0;
    out.amount[i] = c.amount![i] as number;
    out.terms[i] = c.terms![i] as number;
    out.disputed[i] = c.is_disputed![i] === true ? 1 : 0;
    out.electronic[i] = c.is_electronic![i] === true ? 1 : 0;
    const overdue = Number(c.overdue![i] ?? 0);
    const currency = c.currency![i] as string;
    let e = exponents.get(currency);
    if (e === undefined) exponents.set(currency, (e = 10 ** currencyExponent(currency)));
    out.overdue[i] = overdue ? Math.log1p(overdue / e) : 0;
  }
  out.customerKeys = keys;
  return out;
}
