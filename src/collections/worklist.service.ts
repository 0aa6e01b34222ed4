import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Core } from '../core.ts';
import { dataDir } from '../db/connection.ts';
import { addDays, daysBetween, parseBusinessDate } from '../shared/dates.ts';
import { formatAmount } from '../shared/money.ts';
import { optionalText } from '../shared/validate.ts';
import { disputedOn, openItemsAsOf, promisedOn, sentLevels } from './collections.repository.ts';
import { promiseReliability } from './promise.service.ts';

/**
 * The collector's worklist: every open invoice, ranked by expected loss, with what is known
 * about it — dunning level reached, promise, dispute, the customer's last action and the
 * next action due.
 *
 * Expected loss, when the published warehouse holds payment-date forecasts
 * (`forecast.invoice_payment`): probability of paying late × open amount × the customer's
 * risk weight (A 0.2, B 0.4, C 0.6, D 0.8, E 1.0, no class 0.5) — the same ranking as the
 * Collections report. An invoice issued after the forecast counts as late for sure when
 * overdue, even odds otherwise. Without forecasts: days overdue × open amount. Then: an
 * invoice under a standing promise is weighed by (1 − the customer's promise reliability;
 * 0.5 without history), one whose customer broke a promise in the last 30 days by 1.5.
 */
export const RISK_WEIGHT: Record<string, number> = { A: 0.2, B: 0.4, C: 0.6, D: 0.8, E: 1.0 };
export const NO_CLASS_WEIGHT = 0.5;

export interface InvoiceForecast {
  probLate: number;
  predictedDate: string;
  p10Date: string;
  p90Date: string;
}

export interface WorklistItem {
  rank: number;
  customerId: number;
  customer: string;
  collector: string | null;
  invoice: string;
  dueDate: string;
  daysPastDue: number;
  balanceMinor: number;
  balance: string;
  currency: string;
  riskClass: string | null;
  probLate: number | null;
  predictedDate: string | null;
  dunningLevel: number;
  promise: { date: string; reliability: number | null } | null;
  brokenPromiseRecently: boolean;
  disputed: boolean;
  lastAction: { kind: string; date: string; note: string | null } | null;
  nextAction: { what: string; on: string | null; overdue: boolean } | null;
  /** Ranking value: expected loss in minor units (forecast) or day-weighted minor units. */
  expectedLoss: number;
}

export interface Worklist {
  asOf: string;
  basis: 'forecast' | 'days_overdue';
  forecastAsOf: string | null;
  collector: string | null;
  items: WorklistItem[];
  totalItems: number;
}

/** Payment-date forecasts of core invoices from the published warehouse, latest as_of; null when there are none. */
export async function readInvoiceForecasts(file: string): Promise<{ asOf: string; byInvoice: Map<number, InvoiceForecast> } | null> {
  if (!fs.existsSync(file)) return null;
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY', autoinstall_known_extensions: 'false' });
  const conn = await instance.connect();
  try {
    const has = await conn.runAndReadAll(`select count(*) as n from information_schema.tables where table_schema = 'forecast' and table_name = 'invoice_payment'`);
    if (Number(has.getRowObjectsJS()[0]?.n ?? 0) === 0) return null;
    const reader = await conn.runAndReadAll(`select as_of::varchar as as_of, invoice_key, prob_late, predicted_date::varchar as predicted_date, p10_date::varchar as p10_date, p90_date::varchar as p90_date
      from forecast.invoice_payment where invoice_key like 'core:%' and as_of = (select max(as_of) from forecast.invoice_payment)`);
    const rows = reader.getRowObjectsJS();
    if (rows.length === 0) return null;
    const byInvoice = new Map<number, InvoiceForecast>();
    for (const r of rows) byInvoice.set(Number(String(r.invoice_key).slice(5)), { probLate: Number(r.prob_late), predictedDate: String(r.predicted_date), p10Date: String(r.p10_date), p90Date: String(r.p90_date) });
    return { asOf: String(rows[0]!.as_of), byInvoice };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export async function worklist(core: Core, options: { asOf?: string; collector?: string | null; limit?: number; forecastFile?: string | null } = {}): Promise<Worklist> {
  const db = core.db.kysely;
  const asOf = options.asOf ? parseBusinessDate(options.asOf, 'asOf') : core.clock.now().toISOString().slice(0, 10);
  const collector = optionalText(options.collector, 'collector', 100);
  const forecastFile = options.forecastFile === undefined ? path.join(dataDir(), 'published', 'warehouse.duckdb') : options.forecastFile;
  const forecasts = forecastFile ? await readInvoiceForecasts(forecastFile) : null;

  let cq = db.selectFrom('customers').select(['id', 'name', 'collector', 'risk_class', 'currency']);
  if (collector) cq = cq.where('collector', '=', collector);
  const customers = new Map((await cq.execute()).map((c) => [c.id, c]));
  const items = (await openItemsAsOf(db, asOf)).filter((i) => customers.has(i.customer_id));
  const sent = await sentLevels(db, items.map((i) => i.invoice_id));
  const disputed = await disputedOn(db, asOf);
  const promised = await promisedOn(db, asOf);
  const reliability = await promiseReliability(db);
  const broken = new Set((await db.selectFrom('promises_to_pay').select('customer_id').where('status', '=', 'broken').where('resolved_on', '>=', addDays(asOf, -30)).where('resolved_on', '<=', asOf).execute()).map((r) => r.customer_id));
  const actions = await db.selectFrom('collection_actions').select(['customer_id', 'kind', 'action_date', 'note', 'next_action', 'next_action_on', 'id']).where('action_date', '<=', asOf).orderBy('id').execute();
  const lastAction = new Map<number, (typeof actions)[number]>();
  const nextAction = new Map<number, (typeof actions)[number]>();
  for (const a of actions) {
    lastAction.set(a.customer_id, a);
    if (a.next_action) nextAction.set(a.customer_id, a);
  }

  const out: WorklistItem[] = items.map((i) => {
    const c = customers.get(i.customer_id)!;
    const daysPastDue = daysBetween(i.due_date, asOf);
    const f = forecasts?.byInvoice.get(i.invoice_id) ?? null;
    const p = promised.get(i.invoice_id) ?? null;
    const rel = reliability.get(i.customer_id)?.reliability ?? null;
    let loss = forecasts
      ? (f?.probLate ?? (daysPastDue > 0 ? 1 : 0.5)) * i.balance_minor * (c.risk_class ? RISK_WEIGHT[c.risk_class]! : NO_CLASS_WEIGHT)
      : Math.max(daysPastDue, 0) * i.balance_minor;
    if (p) loss *= 1 - (rel ?? 0.5);
    if (broken.has(i.customer_id)) loss *= 1.5;
    const la = lastAction.get(i.customer_id);
    const na = nextAction.get(i.customer_id);
    return {
      rank: 0, customerId: i.customer_id, customer: c.name, collector: c.collector, invoice: i.number, dueDate: i.due_date, daysPastDue, balanceMinor: i.balance_minor, balance: formatAmount(i.balance_minor, i.currency), currency: i.currency,
      riskClass: c.risk_class, probLate: f?.probLate ?? null, predictedDate: f?.predictedDate ?? null, dunningLevel: sent.get(i.invoice_id)?.level ?? 0,
      promise: p ? { date: p.promisedDate, reliability: rel } : null, brokenPromiseRecently: broken.has(i.customer_id), disputed: disputed.has(i.invoice_id),
      lastAction: la ? { kind: la.kind, date: la.action_date, note: la.note } : null,
      nextAction: na && na.next_action ? { what: na.next_action, on: na.next_action_on, overdue: na.next_action_on !== null && na.next_action_on <= asOf } : null,
      expectedLoss: Math.round(loss),
    };
  });
  out.sort((a, b) => b.expectedLoss - a.expectedLoss || b.daysPastDue - a.daysPastDue || b.balanceMinor - a.balanceMinor || a.invoice.localeCompare(b.invoice));
  out.forEach((x, n) => (x.rank = n + 1));
  return { asOf, basis: forecasts ? 'forecast' : 'days_overdue', forecastAsOf: forecasts?.asOf ?? null, collector, items: out.slice(0, options.limit ?? 50), totalItems: out.length };
}
