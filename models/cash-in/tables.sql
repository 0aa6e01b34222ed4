-- table forecast.cash_weekly: One row per currency and week of the 13 after as_of: expected receipts in that currency from its open invoices and from its invoices not yet issued (its sales forecast through the collection curve), with an 80 % interval (models/cash-in). Amounts are minor units of the row's currency; currencies are never added here (forecast.cash_weekly_converted does that).
-- grain: one row per (as_of, week_start, currency)
-- column as_of: Date the forecast was made for.
-- column week_start: Monday the week starts (receipts before the first Monday count in the first week).
-- column expected_cents: Expected receipts in the week: bottom-up (open invoices and new sales), top-down (the receipts' level, trend and weekday/month-end pattern) and the run rate, combined with the weights learned on the replays (forecast.model_runs gives them), minor units of the row's currency.
-- column low_cents: Lower end of the 80 % interval (see interval_method), minor units of the row's currency, never above expected_cents nor below 0.
-- column high_cents: Upper end of the 80 % interval (see interval_method), minor units of the row's currency, never below expected_cents.
-- column new_sales_cents: Part of bottom_up_cents from invoices issued after as_of (sales forecast through the collection curve), minor units of the row's currency.
-- column currency: ISO 4217 currency of the row's amounts (null in rows written before forecasts were per currency).
-- column interval_method: How the 80 % interval was made: calibrated (expected × the 10 % and 90 % points of the relative errors (actual − expected) / expected of the forecast replayed at past month-ends, weeks ended by as_of only, a week's weight halving every 91 days; forecast.cash_backtest) or model (fewer than 20 such weeks: the normal approximation treating each invoice as paying independently, too narrow in practice).
-- column bottom_up_cents: Part combined: open invoices by their payment-date distributions plus new sales, minor units of the row's currency (null in rows written before the combination).
-- column top_down_cents: Part combined: the receipts' own level, damped trend and weekday/month-end pattern (the bottom-up forecast under 91 days of history), minor units of the row's currency.
-- column run_rate_cents: Part combined: the average week of the currency's receipts in the 13 weeks before as_of, minor units of the row's currency.
create table if not exists forecast.cash_weekly (
  as_of date, week_start date, expected_cents bigint, low_cents bigint, high_cents bigint, new_sales_cents bigint, interval_method varchar, currency varchar,
  bottom_up_cents bigint, top_down_cents bigint, run_rate_cents bigint
);

-- table forecast.cash_weekly_converted: The 13-week cash-in forecast of all currencies together, converted into the reporting currency as metrics.ar_kpis_converted converts the KPIs: each currency's week at the rate of metrics.fx_rates_used on as_of (that date's, or the latest before it), converted exactly, added up, rounded half up once to the reporting currency's exponent. Not written when a currency cannot be converted (no rates loaded; forecast.model_runs says so).
-- grain: one row per (as_of, week_start)
-- column as_of: Date the forecast was made for, and the date converted at.
-- column week_start: Monday the week starts (receipts before the first Monday count in the first week).
-- column reporting_currency: The currency of every amount of the row (setting reporting.currency).
-- column currencies: The currencies added up, in alphabetical order.
-- column rates_used: Which rate converted each currency: `JPY 161.23 (2026-11-30)`; `at par` for the reporting currency itself.
-- column expected_cents: Expected receipts of the week, all currencies, minor units of the reporting currency.
-- column low_cents: Sum of the currencies' lower ends of the 80 % interval, converted (a band as wide as if the currencies' weeks moved together), minor units of the reporting currency.
-- column high_cents: Sum of the currencies' upper ends of the 80 % interval, converted, minor units of the reporting currency.
-- column new_sales_cents: Part of the bottom-up forecast from invoices issued after as_of, converted, minor units of the reporting currency.
create table if not exists forecast.cash_weekly_converted (
  as_of date, week_start date, reporting_currency varchar, currencies varchar, rates_used varchar, expected_cents bigint, low_cents bigint, high_cents bigint, new_sales_cents bigint
);

-- table forecast.cash_backtest: The 13-week cash-in forecast replayed at past month-ends (as_of) with what was known then, against the cash received: one row per origin, currency and week that had ended by run_as_of (models/cash-in/backtest.ts). Each currency is replayed on its own, its amounts in its minor units; currencies are never added here.
-- grain: one row per (run_as_of, as_of, currency, week_start)
-- column run_as_of: As-of date of the run that made the replay.
-- column as_of: Origin: the past month-end the forecast is replayed at.
-- column week_start: Monday the week starts (receipts between the origin and the first Monday count in the first week).
-- column currency: ISO 4217 currency of the row's amounts (null in rows written before the replays were per currency, which added every currency up).
-- column expected_cents: Expected receipts in the week as forecast at the origin: the combination of bottom_up_cents, top_down_cents and run_rate_baseline_cents with the weights learned from the weeks ended by the origin (models/cash-in/combination.ts), minor units of the row's currency.
-- column bottom_up_cents: Part: open invoices by their payment-date distributions plus new sales through the collection curve, minor units of the row's currency.
-- column top_down_cents: Part: the receipts' own level, damped trend and weekday/month-end pattern (models/cash-in/top-down.ts), minor units of the row's currency.
-- column low_cents: Lower end of the 80 % interval as it would have been published at the origin (see interval_method), minor units of the row's currency.
-- column high_cents: Upper end of the 80 % interval as it would have been published at the origin (see interval_method), minor units of the row's currency.
-- column actual_cents: Cash received in the week in the row's currency (payments not reversed), minor units.
-- column due_date_baseline_cents: Baseline: invoices of the currency open at the origin paid on their due dates (overdue ones in the first week), no new sales.
-- column run_rate_baseline_cents: Baseline (and a part of the combination): average weekly receipts of the currency in the 13 weeks before the origin.
-- column interval_method: calibrated: interval from the combination's relative errors of the replayed weeks that had ended by the origin (as_of), never a later week; model: fewer than 20 such weeks, the bottom-up model's own interval moved onto the combination. The accuracy in forecast.model_evaluations is over the calibrated origins.
-- column model_low_cents: Lower end of the bottom-up model's own 80 % interval (invoices paying independently) moved onto the combination, minor units of the row's currency.
-- column model_high_cents: Upper end of the bottom-up model's own 80 % interval moved onto the combination, minor units of the row's currency.
create table if not exists forecast.cash_backtest (
  run_as_of date, as_of date, week_start date, expected_cents bigint, low_cents bigint, high_cents bigint, actual_cents bigint,
  due_date_baseline_cents bigint, run_rate_baseline_cents bigint, interval_method varchar, model_low_cents bigint, model_high_cents bigint,
  currency varchar, bottom_up_cents bigint, top_down_cents bigint
);
