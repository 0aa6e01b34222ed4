// The formats every page shares. Money arrives as decimals of the report's currency and is
// shown with thousands separators and as many decimals as the currency has (2 for EUR, 0 for
// JPY, 3 for KWD); dates as "31 Oct 2026", never as raw ISO text. A missing value (null,
// undefined, NaN or an infinity) is shown as a dash, never as "null" or "NaN".
/** @typedef {number | string | null | undefined} Figure */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
export const DASH = "–";

/** @type {(v: Figure) => number | null} */
export function toNumber(v) {
  if (v == null || v === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * Decimals of a currency (ISO 4217 minor units), 2 when the currency is unknown or not given.
 * @param {string | undefined | null} currency
 * @returns {number}
 */
export function exponent(currency) {
  if (!currency) return 2;
  try {
    return new Intl.NumberFormat("en-US", {style: "currency", currency}).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/**
 * A number with thousands separators and a fixed count of decimals; negative with a true minus.
 * @param {Figure} v
 * @param {number} [decimals]
 */
export function num(v, decimals = 1) {
  const n = toNumber(v);
  if (n == null) return DASH;
  const s = Math.abs(n).toLocaleString("en-US", {minimumFractionDigits: decimals, maximumFractionDigits: decimals});
  return n < 0 && Number(s.replace(/,/g, "")) !== 0 ? `−${s}` : s;
}

/** A whole count with thousands separators. @type {(v: Figure) => string} */
export const count = (v) => num(v, 0);

/**
 * Money: "2,213,544.40 EUR" (with the currency), "2,213,544.40" without; the currency's decimals.
 * @param {Figure} v
 * @param {string} [currency]
 * @param {{suffix?: boolean}} [options] suffix: false leaves the code out (a table whose header names it)
 */
export function money(v, currency = "", {suffix = true} = {}) {
  const s = num(v, exponent(currency));
  return s === DASH || !currency || !suffix ? s : `${s} ${currency}`;
}

/**
 * The sum of amounts of one currency, added in its minor units (integers) so no float error
 * creeps into a total: 0.1 + 0.2 EUR is 0.30 EUR.
 * @param {Iterable<Figure>} values amounts in currency units
 * @param {string} currency
 * @returns {number}
 */
export function sumMoney(values, currency) {
  const scale = 10 ** exponent(currency);
  let minor = 0;
  for (const v of values) minor += Math.round((toNumber(v) ?? 0) * scale);
  return minor / scale;
}

/** Days with one decimal: "47.0 days". @type {(v: Figure) => string} */
export const days = (v) => (toNumber(v) == null ? DASH : `${num(v, 1)} days`);
/** A share (0–1) as a percentage: "38.0 %". @type {(v: Figure) => string} */
export const pct = (v) => (toNumber(v) == null ? DASH : `${num(Number(v) * 100, 1)} %`);
/** A figure already in percent (the CEI): "97.3 %". @type {(v: Figure) => string} */
export const percent = (v) => (toNumber(v) == null ? DASH : `${num(v, 1)} %`);
/** Seconds: "13.9 s", minutes past 120 s: "4.2 min". @type {(v: Figure) => string} */
export const seconds = (v) => {
  const n = toNumber(v);
  return n == null ? DASH : n >= 120 ? `${num(n / 60, 1)} min` : `${num(n, 1)} s`;
};

/**
 * The parts of a date or timestamp given as text ("2026-10-31", "2026-10-31 07:12:03.123456",
 * "2026-10-31T07:12:03Z") or as a Date; read as written (UTC), never shifted to the viewer's zone.
 * @param {unknown} v
 * @returns {{y: number, m: number, d: number, hh: number | null, mm: number | null} | null}
 */
function parts(v) {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : {y: v.getUTCFullYear(), m: v.getUTCMonth() + 1, d: v.getUTCDate(), hh: v.getUTCHours(), mm: v.getUTCMinutes()};
  if (typeof v !== "string") return null;
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?(?:[T ](\d{2}):(\d{2}))?/.exec(v);
  if (!m) return null;
  return {y: Number(m[1]), m: Number(m[2]), d: m[3] ? Number(m[3]) : 1, hh: m[4] ? Number(m[4]) : null, mm: m[5] ? Number(m[5]) : null};
}

/** "31 Oct 2026". @type {(v: unknown) => string} */
export const date = (v) => {
  const p = parts(v);
  return p ? `${p.d} ${MONTHS[p.m - 1]} ${p.y}` : v == null || v === "" ? DASH : String(v);
};
/** "Oct 2026". @type {(v: unknown) => string} */
export const month = (v) => {
  const p = parts(v);
  return p ? `${MONTHS[p.m - 1]} ${p.y}` : DASH;
};
/** "31 Oct 2026, 07:12 UTC" (no seconds, no microseconds). @type {(v: unknown) => string} */
export const dateTime = (v) => {
  const p = parts(v);
  if (!p) return v == null || v === "" ? DASH : String(v);
  return p.hh == null ? date(v) : `${date(v)}, ${String(p.hh).padStart(2, "0")}:${String(p.mm).padStart(2, "0")} UTC`;
};
/** A timestamp as text from the warehouse (UTC, no zone) as a Date. @type {(v: string) => Date} */
export const utc = (v) => new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(v) ? v : `${v.replace(" ", "T")}Z`);

/** Text for a value that may be missing. @type {(v: unknown) => string} */
export const text = (v) => (v == null || v === "" ? DASH : String(v));
