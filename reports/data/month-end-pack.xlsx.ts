import ExcelJS from 'exceljs';
import { mainScope, output, withSnapshot } from './snapshot.ts';

/**
 * The month-end pack as an Excel workbook, built with the site: the aging at the last closed
 * month-end, the receivables KPIs of every closed month, the 13-week cash forecast, and for a
 * company in several currencies the KPIs of all of them in the reporting currency. Amounts
 * are numbers (cells formatted with separators and the currency's decimals), dates are dates.
 */
const book = await withSnapshot(async (q, has) => {
  const scope = await mainScope(q);
  const where = `source = '${scope.source}' and currency = '${scope.currency}'`;
  const decimals = new Intl.NumberFormat('en-US', { style: 'currency', currency: scope.currency }).resolvedOptions().maximumFractionDigits ?? 2;
  const moneyFormat = decimals ? `#,##0.${'0'.repeat(decimals)}` : '#,##0';
  const wb = new ExcelJS.Workbook();
  wb.creator = 'cashloop';
  // A fixed date, so the same warehouse gives the same workbook.
  wb.created = new Date(`${scope.monthEnd}T00:00:00Z`);
  const sheet = (name: string, columns: { header: string; key: string; width: number; money?: boolean; date?: boolean; format?: string }[], rows: Record<string, unknown>[]) => {
    const ws = wb.addWorksheet(name);
    ws.columns = columns.map((c) => ({ header: c.header, key: c.key, width: c.width, style: { numFmt: c.money ? moneyFormat : c.date ? 'd mmm yyyy' : c.format } }));
    ws.getRow(1).font = { bold: true };
    ws.views = [{ state: 'frozen', ySplit: 1 }];
    for (const r of rows) ws.addRow(Object.fromEntries(columns.map((c) => [c.key, c.date && r[c.key] ? new Date(`${String(r[c.key])}T00:00:00Z`) : r[c.key] == null ? null : c.money || c.format ? Number(r[c.key]) : r[c.key]])));
  };
  const aging = await q(`select a.customer_id, coalesce(c.customer_name, a.customer_id) as customer, minor_to_units(sum(a.amount_cents), '${scope.currency}') as total,
                                ${['current', '1-30', '31-60', '61-90', '91-120', '120+'].map((b, i) => `minor_to_units(coalesce(sum(a.amount_cents) filter (where a.bucket = '${b}'), 0), '${scope.currency}') as b${i}`).join(', ')}
                         from metrics.ar_aging a left join marts.dim_customer c on c.customer_key = a.customer_id
                         where a.${where.replace(' and ', ' and a.')} and a.as_of = '${scope.monthEnd}' group by all having sum(a.amount_cents) <> 0 order by total desc`);
  sheet(`Aging ${scope.monthEnd}`, [
    { header: 'Customer ID', key: 'customer_id', width: 14 }, { header: 'Customer', key: 'customer', width: 32 },
    { header: `Total (${scope.currency})`, key: 'total', width: 16, money: true },
    ...['Current', '1–30 days', '31–60 days', '61–90 days', '91–120 days', 'Over 120 days'].map((h, i) => ({ header: h, key: `b${i}`, width: 14, money: true })),
  ], aging);
  const kpis = await q(`select month_end::varchar as month_end, minor_to_units(ar_total_cents, '${scope.currency}') as ar_total, minor_to_units(ar_current_cents, '${scope.currency}') as ar_current, minor_to_units(ar_overdue_cents, '${scope.currency}') as ar_overdue,
                               minor_to_units(credit_sales_cents, '${scope.currency}') as credit_sales, dso_countback, dso_standard, bpdso, add_days, cei
                        from metrics.ar_kpis_monthly where ${where} and is_month_end order by month_end`);
  sheet('KPIs', [
    { header: 'Month-end', key: 'month_end', width: 13, date: true },
    { header: `Receivables (${scope.currency})`, key: 'ar_total', width: 18, money: true }, { header: 'Current', key: 'ar_current', width: 16, money: true },
    { header: 'Overdue', key: 'ar_overdue', width: 16, money: true }, { header: 'Credit sales', key: 'credit_sales', width: 16, money: true },
    { header: 'DSO countback (days)', key: 'dso_countback', width: 12, format: '0.0' }, { header: 'DSO standard (days)', key: 'dso_standard', width: 12, format: '0.0' },
    { header: 'Best possible DSO (days)', key: 'bpdso', width: 12, format: '0.0' }, { header: 'ADD (days)', key: 'add_days', width: 10, format: '0.0' }, { header: 'CEI (%)', key: 'cei', width: 9, format: '0.0' },
  ], kpis);
  const cash = (await has('forecast.cash_weekly'))
    ? await q(`select week_start::varchar as week_start, minor_to_units(expected_cents, '${scope.currency}') as expected, minor_to_units(low_cents, '${scope.currency}') as low, minor_to_units(high_cents, '${scope.currency}') as high
               from forecast.cash_weekly where as_of = (select max(as_of) from forecast.cash_weekly) and coalesce(currency, '${scope.currency}') = '${scope.currency}' order by week_start`)
    : [];
  sheet('Cash forecast', [
    { header: 'Week starting', key: 'week_start', width: 14, date: true }, { header: `Expected (${scope.currency})`, key: 'expected', width: 16, money: true },
    { header: 'Low (10 %)', key: 'low', width: 16, money: true }, { header: 'High (90 %)', key: 'high', width: 16, money: true },
  ], cash);
  // A company in several currencies (or reporting in another one): every closed month's KPIs of
  // all currencies converted into the reporting currency, each month-end at its own rates.
  const converted = (await has('metrics.ar_kpis_converted'))
    ? await q(`select month_end::varchar as month_end, reporting_currency, currencies, rates_used, ar_total, ar_overdue, credit_sales, dso_countback, dso_standard, bpdso, add_days, cei
               from metrics.ar_kpis_converted where source = '${scope.source}' and is_month_end order by month_end`)
    : [];
  const reporting = String(converted[0]?.reporting_currency ?? '');
  if (converted.length > 0 && (reporting !== scope.currency || converted.some((r) => String(r.currencies).includes(',')))) {
    const reportingDecimals = new Intl.NumberFormat('en-US', { style: 'currency', currency: reporting }).resolvedOptions().maximumFractionDigits ?? 2;
    const reportingMoney = reportingDecimals ? `#,##0.${'0'.repeat(reportingDecimals)}` : '#,##0';
    sheet(`KPIs in ${reporting}`, [
      { header: 'Month-end', key: 'month_end', width: 13, date: true }, { header: 'Currencies', key: 'currencies', width: 16 },
      { header: `Receivables (${reporting})`, key: 'ar_total', width: 18, format: reportingMoney }, { header: 'Overdue', key: 'ar_overdue', width: 16, format: reportingMoney },
      { header: 'Credit sales', key: 'credit_sales', width: 16, format: reportingMoney },
      { header: 'DSO countback (days)', key: 'dso_countback', width: 12, format: '0.0' }, { header: 'DSO standard (days)', key: 'dso_standard', width: 12, format: '0.0' },
      { header: 'Best possible DSO (days)', key: 'bpdso', width: 12, format: '0.0' }, { header: 'ADD (days)', key: 'add_days', width: 10, format: '0.0' }, { header: 'CEI (%)', key: 'cei', width: 9, format: '0.0' },
      { header: 'Rates used (each at the month-end or the latest day before it)', key: 'rates_used', width: 48 },
    ], converted);
  }
  return wb;
});
output(Buffer.from(await book.xlsx.writeBuffer()));
