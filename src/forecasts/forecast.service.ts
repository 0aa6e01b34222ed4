import { sql } from 'kysely';
import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import { isBusinessDate } from '../shared/dates.ts';
import { invalid } from '../shared/errors.ts';
import { allForecasts, forecastOfInvoice, forecastsOfCustomer, invoiceCustomers, replaceForecastRows, type InvoiceForecastRow } from './forecast.repository.ts';

/**
 * An open invoice's payment forecast as the models hand it back (models/payment-date, through
 * the forecast step): the predicted payment date with its 80 % interval, the probability of
 * paying after the due date in basis points, and the amount at risk — the open balance times
 * that probability, in the invoice currency's minor units.
 */
export interface InvoiceForecastInput {
  invoiceId: number;
  customerId: number;
  asOf: string;
  predictedPayDate: string;
  payDateLow: string;
  payDateHigh: string;
  probLateBp: number;
  amountAtRiskMinor: number;
  model: string;
}

/** A forecast as the core's readers see it. */
export interface InvoiceForecast extends InvoiceForecastInput {
  writtenAt: string;
}

const toForecast = (r: InvoiceForecastRow): InvoiceForecast => ({
  invoiceId: r.invoice_id,
  customerId: r.customer_id,
  asOf: r.as_of,
  predictedPayDate: r.predicted_pay_date,
  payDateLow: r.pay_date_low,
  payDateHigh: r.pay_date_high,
  probLateBp: Number(r.prob_late_bp),
  amountAtRiskMinor: Number(r.amount_at_risk_minor),
  model: r.model,
  writtenAt: r.written_at,
});

function check(f: InvoiceForecastInput, i: number): void {
  const bad = (field: keyof InvoiceForecastInput, rule: string, what: string) => {
    throw invalid(`forecasts.${i}.${field} ${what}, got ${JSON.stringify(f[field])}`, { field: `forecasts.${i}.${field}`, value: f[field], rule });
  };
  for (const field of ['invoiceId', 'customerId'] as const) if (!Number.isSafeInteger(f[field]) || f[field] < 1) bad(field, 'positive', 'must be a positive whole number');
  for (const field of ['asOf', 'predictedPayDate', 'payDateLow', 'payDateHigh'] as const) if (!isBusinessDate(f[field])) bad(field, 'date_format', 'must be a date written YYYY-MM-DD');
  if (!(f.payDateLow <= f.predictedPayDate && f.predictedPayDate <= f.payDateHigh)) bad('predictedPayDate', 'within_interval', `must lie within ${f.payDateLow}…${f.payDateHigh}`);
  if (!Number.isInteger(f.probLateBp) || f.probLateBp < 0 || f.probLateBp > 10_000) bad('probLateBp', 'range', 'must be whole basis points from 0 to 10000');
  if (!Number.isSafeInteger(f.amountAtRiskMinor) || f.amountAtRiskMinor < 0) bad('amountAtRiskMinor', 'non_negative', 'must be a whole, non-negative number of minor units');
  if (typeof f.model !== 'string' || f.model.length === 0 || f.model.length > 100) bad('model', 'text', 'must name the model (1–100 characters)');
}

/**
 * Replaces every invoice forecast with `forecasts` in one transaction with one event: a
 * reader sees the old set or the new one, never a mix. Each row is checked first (field,
 * value and rule named; nothing written on a bad row), and each invoice must exist and
 * belong to the customer given. On PostgreSQL the table is locked for the transaction, so two
 * runs at once replace one after the other instead of failing on each other's rows.
 */
export async function replaceInvoiceForecasts(core: Core, forecasts: InvoiceForecastInput[], actor: string): Promise<{ written: number; asOf: string | null }> {
  const seen = new Set<number>();
  forecasts.forEach((f, i) => {
    check(f, i);
    if (seen.has(f.invoiceId)) throw invalid(`forecasts.${i}.invoiceId ${f.invoiceId} appears twice`, { field: `forecasts.${i}.invoiceId`, value: f.invoiceId, rule: 'unique' });
    seen.add(f.invoiceId);
  });
  return runChange(core, actor, async ({ trx, at, dialect }) => {
    if (dialect === 'postgres') await sql`lock table invoice_forecasts in share row exclusive mode`.execute(trx);
    const owners = await invoiceCustomers(trx, forecasts.map((f) => f.invoiceId));
    forecasts.forEach((f, i) => {
      const owner = owners.get(f.invoiceId);
      if (owner === undefined) throw invalid(`forecasts.${i}.invoiceId ${f.invoiceId} is not an invoice`, { field: `forecasts.${i}.invoiceId`, value: f.invoiceId, rule: 'exists' });
      if (owner !== f.customerId) throw invalid(`forecasts.${i}.customerId ${f.customerId} does not own invoice ${f.invoiceId}`, { field: `forecasts.${i}.customerId`, value: f.customerId, rule: 'owner' });
    });
    await replaceForecastRows(
      trx,
      forecasts.map((f) => ({
        invoice_id: f.invoiceId, customer_id: f.customerId, as_of: f.asOf, predicted_pay_date: f.predictedPayDate, pay_date_low: f.payDateLow,
        pay_date_high: f.payDateHigh, prob_late_bp: f.probLateBp, amount_at_risk_minor: f.amountAtRiskMinor, model: f.model, written_at: at,
      })),
    );
    const asOf = forecasts.reduce<string | null>((m, f) => (m === null || f.asOf > m ? f.asOf : m), null);
    const models = [...new Set(forecasts.map((f) => f.model))];
    return { result: { written: forecasts.length, asOf }, events: [{ type: 'invoice.forecasts_replaced', aggregate: 'invoice_forecasts', id: asOf ?? 'none', after: { as_of: asOf, invoices: forecasts.length, models } }] };
  });
}

/** The forecasts of one customer's open invoices (empty when none were written). */
export async function customerForecasts(core: Core, customerId: number): Promise<InvoiceForecast[]> {
  return (await forecastsOfCustomer(core.db.kysely, customerId)).map(toForecast);
}

/** One invoice's forecast, or null. */
export async function invoiceForecast(core: Core, invoiceId: number): Promise<InvoiceForecast | null> {
  const r = await forecastOfInvoice(core.db.kysely, invoiceId);
  return r ? toForecast(r) : null;
}

/** Every forecast held, by invoice id (the collectors' worklist ranks by them). */
export async function forecastsByInvoice(core: Core): Promise<Map<number, InvoiceForecast>> {
  return new Map([...(await allForecasts(core.db.kysely))].map(([k, r]) => [k, toForecast(r)]));
}
