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

/**
 * A figure for an axis tick where room is short (a phone): "950", "12k", "1.5M", "−2k" — at
 * most one decimal, so the ticks of a money axis stay apart at 390 px.
 * @param {Figure} v
 */
export function compact(v) {
  const n = toNumber(v);
  if (n == null) return DASH;
  const size = Math.abs(n);
  const [d, unit] = size >= 1e9 ? [1e9, "G"] : size >= 1e6 ? [1e6, "M"] : size >= 1e3 ? [1e3, "k"] : [1, ""];
  const s = `${Number((size / d).toFixed(1))}${unit}`;
  return n < 0 && s !== "0" ? `−${s}` : s;
}

/**
 * How many ticks a horizontal axis of `span` pixels holds when each label is about `chars`
 * characters of the 10 px axis font (about 6.5 px a character, and a gap): at least 2. A hint
 * for Plot's `ticks`, which may round it to a nicer count.
 * @param {number} span
 * @param {number} chars
 */
export const tickCount = (span, chars) => Math.max(2, Math.floor(span / (chars * 6.5 + 14)));

/**
 * The months of a band axis to label when they are written slanted (−45°): every k-th, counted
 * back from the latest, so neighbouring labels stay a line of text apart on a narrow chart (24
 * months on a phone: every third or fourth). `span` is the axis' length in pixels.
 * @template T
 * @param {Iterable<T>} values the axis' values, in any order, repeats allowed
 * @param {number} span
 * @returns {T[]}
 */
export function monthTicks(values, span) {
  /** @type {Map<string, T>} */
  const byKey = new Map();
  for (const v of values) byKey.set(String(v), v);
  const all = [...byKey.keys()].sort().map((k) => /** @type {T} */ (byKey.get(k)));
  // 22 px of axis per label keeps 15 px across the slanted text (22 × sin 45°): a line of the
  // 10 px axis font and some air (17 px left the labels touching on a phone).
  const k = Math.max(1, Math.ceil((all.length * 22) / Math.max(1, span)));
  return all.filter((_, i) => (all.length - 1 - i) % k === 0);
}

/**
 * Ticks for a log-like (symlog) axis over these values: 1-2-5, 1-3 or 1 per power of ten,
 * whichever gives at most 7, and 0 when the values reach it. Left to itself the axis spaces its
 * ticks evenly in value, so 100,000, 150,000 and 200,000 land on top of each other.
 * @param {Iterable<Figure>} values
 * @returns {number[]}
 */
export function logTicks(values) {
  const ns = [...values].map(toNumber).filter((n) => n != null);
  if (!ns.length) return [];
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  const top = Math.max(1, Math.ceil(Math.log10(Math.max(1, hi))));
  for (const steps of [[1, 2, 5], [1, 3], [1]]) {
    const ticks = [];
    for (let p = 0; p <= top; p++) for (const s of steps) ticks.push(s * 10 ** p);
    const inside = [...(lo <= 0 ? [0] : []), ...ticks.filter((t) => t >= Math.max(lo, 1) && t <= hi)];
    if (inside.length <= 7 || steps.length === 1) return inside;
  }
  return [];
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
