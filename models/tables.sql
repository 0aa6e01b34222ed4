-- table forecast.model_evaluations: Walk-forward accuracy of each model beside its baselines, on past dates with features from those dates only.
-- grain: one row per (model, metric, baseline)
-- column model: Model evaluated (sales/<level> for the sales forecast of a level; cash-in models followed by the currency replayed).
-- column as_of: Last month-end of the walk-forward evaluation (sales: of the history backtested).
-- column metric: mae_days, rmse_days, late_accuracy, interval_80_coverage (issue-time walk forward); mae_days_open, brier_late, brier_skill, interval_80_coverage_open and reliability_<band> (observed share late beside baseline mean_predicted) for the payment-date candidates replayed on the invoices open at past month-ends; for sales: mase (selection replayed in time order, mean over the level's series), mase_best_in_backtest, interval_80_coverage; for cash-in (one set per currency and model: the combination cash-in/13-week@2 and its parts cash-in/bottom-up@1 and cash-in/top-down@1, the currency after the name, e.g. cash-in/13-week@2 EUR): wape, bias (share of actual receipts), wape_mean_over_origins (each origin's WAPE, averaged), origins_won (origins at which the model's WAPE was below the baseline's; baseline value the origins), interval_80_coverage (the combination only) over the replayed weeks of the origins whose interval was calibrated, and in words weeks_within_band (of the last 10 ended weeks, each as forecast from the latest month-end before it: how many held the cash received within the band; baseline weeks_counted) and replays_beating_run_rate (of the last 10 replays, how many had a lower WAPE than the run rate; baseline replays_counted).
-- column value: The model's value of the metric; null when it is not a finite number (see note).
-- column baseline: Baseline compared against: due_date, customer_mean (for open invoices: the customer's mean over its past payments later than the invoice's age), global_mean, customer_late_share, the other payment-date candidate; for sales seasonal_naive (naive under 12 months) and the other candidates holt_winters, regression, combination; for cash-in run_rate (average weekly receipts of the 13 weeks before) and due_date (open invoices on their due dates); for coverage nominal (0.8) and model_interval (the model's own interval on the same weeks).
-- column baseline_value: The baseline's value of the metric; null when it is not a finite number (see note).
-- column invoices: Invoices predicted in the walk (sales: invoices in the history; cash-in: weeks compared).
-- column months: Months walked (sales: months of history of the level's longest series; cash-in: origins compared).
-- column note: Why value or baseline_value is null (e.g. a WAPE over weeks in which no cash came in), null otherwise.
create table if not exists forecast.model_evaluations (
  model varchar, as_of date, metric varchar, value double, baseline varchar, baseline_value double, invoices integer, months integer, note varchar
);

-- table forecast.model_runs: What each model of the forecast step did on the last run for an as-of date: written, or skipped with the reason (too little history, nothing open).
-- grain: one row per (as_of, model)
-- column as_of: Date the forecast step ran for.
-- column model: Model (and version) of the step, e.g. payment-date/… or cash-in/13-week@1.
-- column status: written or skipped.
-- column rows_written: Rows the model wrote to its tables (0 when skipped).
-- column reason: Why the model was skipped, in words; for a written payment-date forecast, which candidate each published figure came from and on how much replay.
create table if not exists forecast.model_runs (
  as_of date, model varchar, status varchar, rows_written bigint, reason varchar
);
