import type { DuckDBConnection } from '@duckdb/node-api';
import { rowsJs } from '../../src/warehouse/warehouse.ts';
import { firstForecastMonth, SERIES_SQL } from '../../src/warehouse/sales-series.ts';

export { firstForecastMonth };

/**
 * Monthly net invoiced sales, the series the sales forecast is fitted on.
 *
 * Net invoiced sales of a month: the invoices issued in that month (cancelled ones left out),
 * each counted before tax. An invoice of an order is scaled by its order's net-to-total
 * ratio (the marts hold invoice totals including tax and order lines before and after tax;
 * an order's invoices add up to its order total). The product split gives each order line
 * its share of the invoice: invoice amount × line net / order total, so a partly invoiced
 * order counts pro rata across its lines. An invoice without order lines (extracts such as
 * the IBM sample) counts at its full amount in the total and segment series and is left out
 * of the category and product series. Integer cents (rounded per month), per currency.
 *
 * Levels: `total` (key `total`), `category` (dim_product.category, `uncategorised` when
 * empty), `segment` (dim_customer.segment, `unknown` when empty) and `product`
 * (dim_product.product_key).
 */
export type Level = 'total' | 'category' | 'segment' | 'product';
/**
 * Series the forecast adds on top of the levels so that they add up: `remainder` with key
 * `category:<category>` (the category's sales outside its forecast products) or `total`
 * (sales without order lines, in no category). Not a level of their own.
 */
export type SeriesLevel = Level | 'remainder';
export const LEVELS: Level[] = ['total', 'category', 'segment', 'product'];

export interface MonthlySeries {
  currency: string;
  level: SeriesLevel;
  key: string;
  /** First day of the first month, `YYYY-MM-01`. */
  start: string;
  /** Net invoiced sales per month from `start`, integer cents; months without sales are 0. */
  values: number[];
  /** Months with sales (the product threshold counts these). */
  monthsWithSales: number;
  /** A product's category (set by the forecast from SalesHistory.productCategory). */
  parent?: string;
}

/** `addMonths('2025-11-01', 3)` → `'2026-02-01'` (first days of months only). */
export function addMonths(month: string, n: number): string {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7)) - 1 + n;
  return new Date(Date.UTC(y + Math.floor(m / 12), ((m % 12) + 12) % 12, 1)).toISOString().slice(0, 10);
}

export function monthsBetween(from: string, to: string): number {
  return (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + Number(to.slice(5, 7)) - Number(from.slice(5, 7));
}

export interface SalesHistory {
  series: MonthlySeries[];
  /** Invoiced amount including tax over net sales, per currency, over the last 12 complete months (for the cash-in). */
  grossRatio: Record<string, number>;
  /** Invoices in the history. */
  invoices: number;
  /** Category of each product (as the category series count it). */
  productCategory?: Record<string, string>;
}

/**
 * Reads every series as known on `asOf`: complete months only (a month counts when it ended
 * on or before `asOf`), each series from its first month with sales, gaps filled with 0.
 */
export async function salesHistory(conn: DuckDBConnection, asOf: string): Promise<SalesHistory> {
  const rows = await rowsJs(conn, SERIES_SQL(asOf));
  const end = firstForecastMonth(asOf); // exclusive
  const grouped = new Map<string, { currency: string; level: Level; key: string; months: Map<string, number> }>();
  const gross = new Map<string, { net: number; gross: number }>();
  for (const r of rows) {
    const month = String(r.month).slice(0, 10);
    if (month >= end) continue;
    const id = `${r.currency}\u0000${r.level}\u0000${r.key}`;
    let g = grouped.get(id);
    if (!g) grouped.set(id, (g = { currency: String(r.currency), level: r.level as Level, key: String(r.key), months: new Map() }));
    g.months.set(month, Number(r.net_cents));
    if (r.level === 'total' && month >= addMonths(end, -12)) {
      const t = gross.get(g.currency) ?? { net: 0, gross: 0 };
      t.net += Number(r.net_cents);
      t.gross += Number(r.gross_cents);
      gross.set(g.currency, t);
    }
  }
  const series: MonthlySeries[] = [];
  for (const g of grouped.values()) {
    const months = [...g.months.keys()].sort();
    const start = months[0]!;
    const values = new Array<number>(monthsBetween(start, end)).fill(0);
    for (const [m, v] of g.months) values[monthsBetween(start, m)] = v;
    series.push({ currency: g.currency, level: g.level, key: g.key, start, values, monthsWithSales: values.filter((v) => v !== 0).length });
  }
  const count = await rowsJs(conn, `select count(*) as n from marts.fct_invoices where not coalesce(is_cancelled, false) and invoice_date < date '${end}'`);
  const products = await rowsJs(conn, `select product_key, coalesce(nullif(category, ''), 'uncategorised') as category from marts.dim_product`);
  return {
    productCategory: Object.fromEntries(products.map((p) => [String(p.product_key), String(p.category)])),
    series,
    grossRatio: Object.fromEntries([...gross].map(([c, t]) => [c, t.net > 0 ? t.gross / t.net : 1])),
    invoices: Number(count[0]!.n),
  };
}
