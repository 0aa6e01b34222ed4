import { sql, type Kysely } from 'kysely';

/**
 * Invoice forecasts handed back to the core: for each open invoice, when it is expected to be
 * paid (with an 80 % interval), the probability that it is paid after its due date, and the
 * amount at risk (open balance × that probability, in the invoice currency's minor units).
 * The forecast step of the pipeline replaces the whole table in one transaction; the
 * collectors' worklist reads it from here, never from the warehouse.
 *
 * The probability is stored as integer basis points (0–10000): an exact figure, never a float.
 */
export async function up(db: Kysely<unknown>, isPg: boolean): Promise<void> {
  const money = isPg ? 'bigint' : 'integer';
  const run = (text: string) => sql.raw(text).execute(db);
  await run(`create table invoice_forecasts (
    invoice_id integer primary key references invoices(id), customer_id integer not null references customers(id),
    as_of text not null, predicted_pay_date text not null, pay_date_low text not null, pay_date_high text not null,
    prob_late_bp integer not null check (prob_late_bp between 0 and 10000), amount_at_risk_minor ${money} not null check (amount_at_risk_minor >= 0),
    model text not null, written_at text not null)`);
  await run(`create index invoice_forecasts_customer on invoice_forecasts (customer_id)`);
}
