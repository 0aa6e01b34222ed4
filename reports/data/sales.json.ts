import { firstForecastMonth, SERIES_SQL } from '../../src/warehouse/sales-series.ts';
import { emit, mainScope, withSnapshot, type Row } from './snapshot.ts';

/**
 * Sales: monthly net invoiced sales (before tax, the series the forecast is fitted on) per
 * total, category, segment and product, the latest 12-month forecast with its 80 % interval,
 * and the backtest accuracy per level (forecast.model_evaluations) and per series
 * (forecast.sales_backtest). Money in the report's currency (minor_to_units: by its decimals).
 */
emit(
  await withSnapshot(async (q, has) => {
    const scope = await mainScope(q);
    const cur = scope.currency.replaceAll("'", "''");
    const history = await q(`
      with series as (${SERIES_SQL(scope.asOf)})
      select level, key, month, minor_to_units(net_cents, '${scope.currency}') as amount from series
      where currency = '${cur}' and month < '${firstForecastMonth(scope.asOf)}' order by level, key, month`);
    const products = await q(`select product_key as key, coalesce(sku || ' · ', '') || coalesce(product_name, product_key) as label from marts.dim_product`);
    let forecast: Row[] = [];
    let series: Row[] = [];
    let accuracy: Row[] = [];
    let forecastAsOf: string | null = null;
    if (await has('forecast.sales_monthly')) {
      const latest = await q(`select max(as_of)::varchar as as_of from forecast.sales_monthly`);
      forecastAsOf = latest[0]?.as_of ? String(latest[0].as_of) : null;
      if (forecastAsOf) {
        forecast = await q(`select level, key, month::varchar as month, minor_to_units(expected_cents, '${scope.currency}') as expected, minor_to_units(low_cents, '${scope.currency}') as low, minor_to_units(high_cents, '${scope.currency}') as high, method
                            from forecast.sales_monthly where as_of = date '${forecastAsOf}' and currency = '${cur}' order by level, key, month`);
      }
    }
    if (forecastAsOf && (await has('forecast.sales_backtest'))) {
      series = await q(`select level, key, months, method, mase, chosen from forecast.sales_backtest where as_of = date '${forecastAsOf}' and currency = '${cur}' order by level, key, method`);
    }
    if (await has('forecast.model_evaluations')) {
      accuracy = await q(`select replace(model, 'sales/', '') as level, as_of::varchar as as_of, metric, baseline, value, baseline_value, months
                          from forecast.model_evaluations where model like 'sales/%' order by model, metric, baseline`);
    }
    return { ...scope, forecastAsOf, history, forecast, series, accuracy, products };
  }),
);
