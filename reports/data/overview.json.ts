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
      cash = await q(`select week_start::varchar as week_start, minor_to_units(expected_cents, '${scope.currency}') as expected, minor_to_units(low_cents, '${scope.currency}') as low, minor_to_units(high_cents, '${scope.currency}') as high
                      from forecast.cash_weekly where as_of = (select max(as_of) from forecast.cash_weekly) and coalesce(currency, '${scope.currency}') = '${scope.currency}' order by week_start`);
    }
    // Expected cash of all currencies, converted into the reporting currency at the forecast's as-of date.
    const cashConverted = (await has('forecast.cash_weekly_converted'))
      ? await q(`select week_start::varchar as week_start, as_of::varchar as converted_at, reporting_currency, currencies, rates_used, minor_to_units(expected_cents, reporting_currency) as expected
                 from forecast.cash_weekly_converted where as_of = (select max(as_of) from forecast.cash_weekly) order by week_start`)
      : [];
    // Every currency side by side at the last closed month-end (the as-of rule for month-based
    // measures), and all of them converted into the reporting currency at each month-end's rates.
    const byCurrency = await q(`
      select currency, month_end::varchar as month_end, minor_to_units(ar_total_cents, currency) as ar_total,
             dso_countback, dso_standard, bpdso, add_days, cei
      from metrics.ar_kpis_monthly where source = '${scope.source}' and month_end = '${scope.monthEnd}' order by currency`);
    const converted = (await has('metrics.ar_kpis_converted'))
      ? await q(`select month_end::varchar as month_end, is_month_end, reporting_currency, currencies, rates_used, ar_total, ar_overdue, credit_sales,
                        dso_countback, dso_standard, bpdso, add_days, cei
                 from metrics.ar_kpis_converted where source = '${scope.source}' order by month_end`)
      : [];
    return { ...scope, kpis, cash, cashConverted, byCurrency, converted };
  }),
);
