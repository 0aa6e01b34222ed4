// Number formats shared by the pages. Money arrives as decimals of the report's currency.
export const money = (v, currency = "") => (v == null ? "–" : `${Number(v).toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2})}${currency ? ` ${currency}` : ""}`);
export const days = (v) => (v == null || Number.isNaN(v) ? "–" : `${Number(v).toFixed(1)} days`);
export const pct = (v) => (v == null ? "–" : `${(Number(v) * 100).toFixed(1)} %`);
export const num = (v, d = 1) => (v == null ? "–" : Number(v).toFixed(d));
