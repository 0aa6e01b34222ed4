// Number formats shared by the pages. Money arrives as decimals of the report's currency.
// A value may be missing (null or undefined): it is shown as a dash.
/** @typedef {number | string | null | undefined} Figure */

/** @type {(v: Figure, currency?: string) => string} */
export const money = (v, currency = "") => (v == null ? "–" : `${Number(v).toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2})}${currency ? ` ${currency}` : ""}`);
/** @type {(v: Figure) => string} */
export const days = (v) => (v == null || Number.isNaN(v) ? "–" : `${Number(v).toFixed(1)} days`);
/** @type {(v: Figure) => string} */
export const pct = (v) => (v == null ? "–" : `${(Number(v) * 100).toFixed(1)} %`);
/** @type {(v: Figure, d?: number) => string} */
export const num = (v, d = 1) => (v == null ? "–" : Number(v).toFixed(d));
