// Every table of the site: human column labels, values in the shared formats, one line per
// cell (a table wider than its card scrolls inside the card instead of squeezing its cells),
// and a "Download CSV" button with the rows behind it.
import * as Inputs from "@observablehq/inputs";
import {count, date, dateTime, days, money, month, num, pct, text} from "./format.js";
import {csvButton} from "./csv.js";
import {customerLink} from "./links.js";

/** Column labels of the warehouse's fields; a field not listed gets its name in words. */
export const LABELS = {
  invoice: "Invoice", customer: "Customer", customer_id: "Customer ID", segment: "Segment", country: "Country",
  risk_class: "Risk class", score: "Score", reasons: "Reasons",
  due_date: "Due", invoice_date: "Issued", days_past_due: "Days past due", bucket: "Bucket",
  open_amount: "Open amount", amount_at_risk: "Amount at risk", overdue_amount: "Overdue amount", amount: "Amount", total: "Total",
  predicted_date: "Expected payment", p10_date: "Earliest (10 %)", p90_date: "Latest (90 %)", prob_late: "Chance of paying late",
  invoices_paid: "Invoices paid", mean_days_to_pay: "Mean days to pay", median_days_to_pay: "Median days to pay", p90_days_to_pay: "Days to pay, 90th pct",
  share_paid_late: "Paid late", mean_days_late: "Mean days late", trend_days_per_quarter: "Trend (days per quarter)",
  credit_limit: "Credit limit", utilisation: "Limit used", sales_12m: "Sales, 12 months",
  policy: "Policy", level: "Level", level_name: "Reminder", window_days: "Window (days)", notices: "Reminders", settled: "Settled",
  share_settled: "Share settled", share_collected: "Share of balance collected",
  week_start: "Week starting", expected: "Expected", low: "Low (10 %)", high: "High (90 %)", received: "Received",
  metric: "Measure", baseline: "Baseline", value: "Forecast", baseline_value: "Baseline value", weeks: "Weeks", origins: "Month-ends",
  month: "Month", step: "Step", orders: "Orders", median_days: "Median days", p90_days: "Days, 90th pct",
  started_at: "Started", ended_at: "Ended", job: "Job", steps: "Steps", as_of: "As of", status: "Status", rows_read: "Rows read", rows_written: "Rows written",
  seconds: "Seconds", pipeline_seconds: "Pipeline", site_seconds: "Site build", error: "Error",
  check_name: "Check", source: "Source", actual: "Actual", result: "Result", loaded_at: "Loaded", files: "Files", rows: "Rows",
  current: "Current", "1-30": "1–30 days", "31-60": "31–60 days", "61-90": "61–90 days", "91-120": "91–120 days", "120+": "Over 120 days",
  promised_date: "Promised for", promised_amount: "Promised amount", opened_at: "Opened", reason: "Reason", sent_at: "Sent", channel: "Channel",
  kept: "Kept", paid_date: "Paid", days_to_pay: "Days to pay", settled_date: "Settled", method: "Method", series: "Series", months: "Months"
};

/** @type {(c: string) => string} */
export const label = (c) => /** @type {Record<string, string>} */ (LABELS)[c] ?? (c.charAt(0).toUpperCase() + c.slice(1)).replace(/_/g, " ");

const MONEY = /^(open_amount|amount_at_risk|overdue_amount|amount|total|credit_limit|sales_12m|expected|low|high|received|promised_amount|current|1-30|31-60|61-90|91-120|120\+)$/;
const PERCENT = /^(prob_late|share_paid_late|utilisation|share_settled|share_collected)$/;
const DATE = /(_date|^as_of|^week_start)$/;
const TIME = /_at$/;
const COUNT = /^(invoices_paid|invoices|notices|settled|orders|rows_read|rows_written|rows|files|shipments|level|window_days|months|weeks|origins|days_past_due|score)$/;
const DAYS = /days/;

const WORDS = /^(metric|baseline|method|published|job|interval_method|policy)$/;
const ACRONYMS = {mase: "MASE", wape: "WAPE", rmse: "RMSE", mae: "MAE"};

/**
 * A code such as "interval_80_coverage" or "seasonal_naive" in words: "interval 80 coverage",
 * "seasonal naive"; measure names in capitals (MASE, WAPE).
 * @param {unknown} v
 * @returns {string}
 */
export function words(v) {
  if (v == null || v === "") return "–";
  return String(v).split("_").map((w) => /** @type {Record<string, string>} */ (ACRONYMS)[w] ?? w).join(" ");
}

/**
 * The format of a column by its name: money in the currency's decimals (the header names the
 * currency), shares as percentages, dates and times as words, counts with separators.
 * @param {string} c
 * @param {string} currency
 * @returns {(v: any) => string}
 */
export function formatOf(c, currency) {
  if (MONEY.test(c)) return (v) => money(v, currency, {suffix: false});
  if (PERCENT.test(c)) return pct;
  if (c === "month") return month;
  if (TIME.test(c)) return dateTime;
  if (DATE.test(c)) return date;
  if (COUNT.test(c)) return count;
  if (DAYS.test(c)) return (v) => num(v, 1);
  if (c === "reasons") return (v) => (Array.isArray(v) ? v.join("; ") : text(v));
  if (WORDS.test(c)) return words;
  return text;
}

/**
 * A table in a card: labelled, formatted, scrolling inside the card, with its CSV.
 * @param {readonly Record<string, any>[]} rows
 * @param {{columns: string[], currency?: string, header?: Record<string, string>, format?: Record<string, (v: any) => any>,
 *   rows?: number, name: string, sort?: string, reverse?: boolean, width?: Record<string, number>}} options
 *   name: the CSV's file name; currency: added to money headers ("Open amount (EUR)"); a "customer"
 *   column links to the customer page when the rows have customer_id
 * @returns {HTMLDivElement}
 */
export function table(rows, {columns, currency = "", header = {}, format = {}, rows: visible = 15, name, sort, reverse, width}) {
  const heads = Object.fromEntries(columns.map((c) => [c, header[c] ?? (MONEY.test(c) && currency ? `${label(c)} (${currency})` : label(c))]));
  // A customer's name links to its page when the rows carry its ID.
  const linked = rows.length > 0 && rows[0]?.customer_id != null;
  const formats = Object.fromEntries(columns.map((c) => [c, format[c] ?? (c === "customer" && linked ? customerLink : formatOf(c, currency))]));
  const align = Object.fromEntries(columns.filter((c) => MONEY.test(c) || PERCENT.test(c) || COUNT.test(c) || DAYS.test(c)).map((c) => [c, "right"]));
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  const t = Inputs.table(rows, {columns, header: heads, format: formats, rows: visible, layout: "auto", align, sort, reverse, width, select: false});
  const bar = document.createElement("div");
  bar.className = "table-bar";
  const n = document.createElement("span");
  n.textContent = `${count(rows.length)} ${rows.length === 1 ? "row" : "rows"}`;
  bar.append(n, csvButton(name, columns.map((c) => heads[c] ?? c), columns, rows));
  wrap.append(t, bar);
  return wrap;
}

/** Days as the tables show them, for pages that format one figure by hand. */
export {days};
