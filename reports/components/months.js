// Which file holds a month's rows behind a chart: the loaders of the monthly drill-downs
// (data/kpi-months.zip.ts, data/sales-months.zip.ts, data/order-months.zip.ts) and the pages
// count months back from the data date's month by the same rule. Framework needs every file
// named in a page's source, so the number of months is fixed: the last MONTHS months.
export const MONTHS = 24;

/**
 * Months from `month` back to the month of `asOf`: 0 for the data date's own month.
 * @param {string} month a date in the month (YYYY-MM-DD or YYYY-MM)
 * @param {string} asOf the data date (YYYY-MM-DD)
 * @returns {number | null} 0 … MONTHS − 1, or null for a month older than that (or after asOf)
 */
export function monthsBack(month, asOf) {
  const [y = NaN, m = NaN] = String(month).split("-").map(Number);
  const [ay = NaN, am = NaN] = String(asOf).split("-").map(Number);
  const back = (ay - y) * 12 + (am - m);
  return back >= 0 && back < MONTHS ? back : null;
}
