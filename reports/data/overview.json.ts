import { emit, mainScope, withSnapshot } from './snapshot.ts';

/** Overview: the receivables KPIs over month-ends, the latest figures, and expected cash. */
emit(
  await withSnapshot(async (q, has) => {
    const scope = await mainScope(q);
    const kpis = await q(`
      select month_end::varchar as month_end, is_month_end, minor_to_units(ar_total_cents, currency) as ar_total, minor_to_units(ar_current_cents, currency) as ar_current,
             minor_to_units(ar_overdue_cents, currency) as ar_overdue, minor_to_units(credit_sales_cents, currency) as credit_sales,
             dso_standard, dso_countback, bpdso, add_days, cei, avg_days_to_pay, avg_days_late, weighted_days_late
      from metrics.ar_kpis_monthly where source = '${scope.source}' and currency = '${scope.currency}' order by month_end`);
    if (kpis.length === 0) throw new Error('no KPI rows');
    let cash: unknown[] = [];
    if (await has('forecast.cash_weekly')) {
      cash = await q(`select week_start::varchar as week_start, expected_cents / 100.0 as expected, low_cents / 100.0 as low, high_cents / 100.0 as high
                      from forecast.cash_weekly where as_of = (select max(as_of) from forecast.cash_weekly) order by week_start`);
    }
    // Every currency side by side at the as-of date, and all of them converted into the reporting currency.
    const byCurrency = await q(`
      select currency, minor_to_units(ar_total_cents, currency) as ar_total, minor_to_units(ar_overdue_cents, currency) as ar_overdue,
             minor_to_units(credit_sales_cents, currency) as credit_sales, dso_standard
      from metrics.ar_kpis_monthly where source = '${scope.source}' and month_end = '${scope.asOf}' order by currency`);
    const converted = (await has('metrics.ar_kpis_converted'))
      ? await q(`select month_end::varchar as month_end, is_month_end, reporting_currency, currencies, rates_used, ar_total, ar_overdue, credit_sales, dso_standard
                 from metrics.ar_kpis_converted where source = '${scope.source}' order by month_end`)
      : [];
    return { ...scope, kpis, cash, byCurrency, converted };
  }),
);
