import { openWarehouse, rowsJs } from '../../src/warehouse/warehouse.ts';

/** An invoice forecast as the core's `replaceInvoiceForecasts` takes it (src/forecasts/forecast.service.ts). */
export interface HandedBackForecast {
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

/**
 * Hands the payment-date forecasts of the published warehouse (`forecast.invoice_payment`,
 * latest as_of) back to the core, for the invoices that came from the core, through `apply`
 * — the core's own service call, which the caller passes in
 * (`(rows) => replaceInvoiceForecasts(core, rows, actor)`), as the credit scores come back.
 * The amount at risk is the one the forecast step computed; nothing is computed again here.
 * Rows the model left without a figure (see their note) are not handed back.
 */
export async function writeBackForecasts(
  apply: (forecasts: HandedBackForecast[]) => Promise<{ written: number }>,
  snapshotFile: string,
): Promise<{ asOf: string | null; written: number; leftOut: number }> {
  const wh = await openWarehouse(snapshotFile, { readOnly: true });
  let rows: Record<string, unknown>[];
  try {
    const has = await rowsJs(wh.conn, `select count(*) as n from information_schema.columns where table_schema = 'forecast' and table_name = 'invoice_payment' and column_name = 'amount_at_risk_cents'`);
    if (Number(has[0]?.n ?? 0) === 0) return { asOf: null, written: 0, leftOut: 0 };
    rows = await rowsJs(
      wh.conn,
      `select as_of::varchar as as_of, invoice_key, customer_key, predicted_date::varchar as predicted_date, p10_date::varchar as p10_date,
              p90_date::varchar as p90_date, prob_late, amount_at_risk_cents, model
       from forecast.invoice_payment
       where invoice_key like 'core:%' and as_of = (select max(as_of) from forecast.invoice_payment)`,
    );
  } finally {
    wh.close();
  }
  const complete = rows.filter((r) => r.predicted_date !== null && r.prob_late !== null && r.amount_at_risk_cents !== null && /^core:\d+$/.test(String(r.customer_key)));
  const forecasts: HandedBackForecast[] = complete.map((r) => ({
    invoiceId: Number(String(r.invoice_key).slice(5)),
    customerId: Number(String(r.customer_key).slice(5)),
    asOf: String(r.as_of),
    predictedPayDate: String(r.predicted_date),
    payDateLow: String(r.p10_date),
    payDateHigh: String(r.p90_date),
    probLateBp: Math.round(Number(r.prob_late) * 10_000),
    amountAtRiskMinor: Number(r.amount_at_risk_cents),
    model: String(r.model),
  }));
  const { written } = await apply(forecasts);
  return { asOf: (rows[0]?.as_of as string | undefined) ?? null, written, leftOut: rows.length - complete.length };
}
