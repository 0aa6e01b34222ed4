import type { DuckDBConnection } from '@duckdb/node-api';
import { rowsJs } from '../../src/warehouse/warehouse.ts';
import { addDays, daysBetween, monthEnd } from '../../src/shared/dates.ts';

/**
 * Receipts from invoices not yet issued, for the 13-week cash-in forecast: the sales
 * forecast's total for the coming months, grossed up to invoice amounts (tax included, by
 * the ratio of the last 12 months), invoiced evenly over the days of each month after the
 * as-of date, and paid through the collection curve — the amount-weighted distribution of
 * days to pay of the invoices settled in the 365 days up to the as-of date, times the share
 * of their amount that was paid (the rest was credited or written off).
 *
 * The curve leans fast: invoices still open on the as-of date are not in it. Uncertainty:
 * each month's sales error (from its 80 % interval, read as normal) passes through to the
 * weeks its invoices are paid in, independently between months; the timing spread of many
 * small invoices is left out as small beside it.
 */
export interface CollectionCurve {
  /** Days from invoice to payment with the share of paid amount settled after that many days (shares sum to 1). */
  days: { days: number; share: number }[];
  /** Paid amount over invoiced amount of the settled invoices (0–1). */
  collectedShare: number;
  invoices: number;
}

export const COLLECTION_CURVE_SQL = (asOf: string) => `
  with settled as (
    select days_to_pay, amount_cents, paid_cents
    from marts.fct_invoices
    where settled_date <= date '${asOf}' and settled_date > date '${asOf}' - interval 365 day
      and not coalesce(is_cancelled, false) and amount_cents > 0
  ),
  curve as (
    select days_to_pay as days, sum(paid_cents)::double as paid_cents
    from settled where days_to_pay is not null and days_to_pay >= 0
    group by days_to_pay
  ),
  totals as (
    select count(*) as invoices, sum(paid_cents)::double / nullif(sum(amount_cents), 0) as collected_share from settled
  )
  select c.days, c.paid_cents, t.invoices, t.collected_share from curve c cross join totals t order by c.days`;

/** The collection curve as of a date; null when nothing was paid in the year before. */
export async function collectionCurve(conn: DuckDBConnection, asOf: string): Promise<CollectionCurve | null> {
  const rows = await rowsJs(conn, COLLECTION_CURVE_SQL(asOf));
  const total = rows.reduce((a, r) => a + Number(r.paid_cents), 0);
  if (rows.length === 0 || total <= 0) return null;
  return {
    days: rows.map((r) => ({ days: Number(r.days), share: Number(r.paid_cents) / total })),
    collectedShare: Math.min(1, Math.max(0, Number(rows[0]!.collected_share ?? 1))),
    invoices: Number(rows[0]!.invoices),
  };
}

export interface ExpectedInvoicing {
  /** First day of the month. */
  month: string;
  /** Expected invoiced amount of the whole month, tax included, cents. */
  expectedCents: number;
  /** Standard deviation of that amount, cents. */
  sdCents: number;
}

export interface WeeklyReceipts {
  meanCents: number[];
  varianceCents: number[];
}

/**
 * Expected receipts per week (weeks of 7 days from `start`, earlier receipts in week 0) from
 * the invoicing of the days after `asOf`, paid through `curve`.
 */
export function newSalesReceipts(asOf: string, start: string, weeks: number, months: ExpectedInvoicing[], curve: CollectionCurve): WeeklyReceipts {
  const meanCents = new Array<number>(weeks).fill(0);
  const varianceCents = new Array<number>(weeks).fill(0);
  const last = addDays(start, 7 * weeks - 1);
  for (const m of months) {
    const days = daysBetween(m.month, monthEnd(m.month)) + 1;
    // Share of the month's invoicing paid in each week.
    const share = new Array<number>(weeks).fill(0);
    for (let d = m.month; d <= monthEnd(m.month) && d <= last; d = addDays(d, 1)) {
      if (d <= asOf) continue;
      const offset = daysBetween(start, d);
      for (const c of curve.days) {
        const w = Math.max(0, Math.floor((offset + c.days) / 7));
        if (w < weeks) share[w]! += (c.share * curve.collectedShare) / days;
      }
    }
    for (let w = 0; w < weeks; w++) {
      meanCents[w]! += share[w]! * m.expectedCents;
      varianceCents[w]! += (share[w]! * m.sdCents) ** 2;
    }
  }
  return { meanCents, varianceCents };
}

/**
 * Share of an open balance that is eventually paid, by its aging bucket on the day: from the
 * balances open at the month-ends 180 to 455 days before `asOf` (old enough for their fate to
 * be known), what was paid on them after that month-end up to `asOf`. The payment-date model
 * learns only from invoices that were paid; this is the part of an open amount it should
 * expect at all (a stop-payer's 120-day-old invoice is mostly never paid).
 */
export const COLLECTION_BY_AGE_SQL = (asOf: string) => `
  with snaps as (
    select o.as_of, o.invoice_key, o.open_cents, o.bucket
    from metrics.ar_open_items o
    where o.as_of = last_day(o.as_of) and o.as_of <= date '${asOf}' - interval 180 day and o.as_of > date '${asOf}' - interval 455 day and o.open_cents > 0
  ),
  paid as (
    select s.bucket, s.invoice_key, s.as_of, any_value(s.open_cents) as open_cents,
           coalesce(sum(a.amount_cents) filter (where a.effective_date > s.as_of and a.effective_date <= date '${asOf}' and not coalesce(a.is_reversed, false)), 0) as paid_cents
    from snaps s left join marts.fct_payment_allocations a on a.invoice_key = s.invoice_key
    group by s.bucket, s.invoice_key, s.as_of
  )
  select bucket, count(*) as items, least(1.0, sum(least(paid_cents, open_cents))::double / sum(open_cents)) as share from paid group by bucket`;

/** Bucket → share paid (buckets of metrics.ar_open_items); empty before a year and a half of history. */
export async function collectionByAge(conn: DuckDBConnection, asOf: string): Promise<Map<string, number>> {
  const rows = await rowsJs(conn, COLLECTION_BY_AGE_SQL(asOf));
  return new Map(rows.filter((r) => Number(r.items) >= 20).map((r) => [String(r.bucket), Number(r.share)]));
}

/** The aging bucket of a balance `daysPastDue` days past due (as metrics.ar_open_items writes it). */
export function agingBucket(daysPastDue: number): string {
  if (daysPastDue <= 0) return 'current';
  if (daysPastDue <= 30) return '1-30';
  if (daysPastDue <= 60) return '31-60';
  if (daysPastDue <= 90) return '61-90';
  if (daysPastDue <= 120) return '91-120';
  return '120+';
}
