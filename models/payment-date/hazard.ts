import { currencyExponent } from '../../src/shared/money.ts';
import type { FeatureRow } from './features.ts';
import { emptyColumns, type HazardColumns } from './columns.ts';

export { emptyColumns, type HazardColumns } from './columns.ts';

/**
 * Payment timing as time to event. Each invoice has an expected payment day — its due date
 * plus the days late its customer's history points to — and a scale, the customer's usual
 * error around it. Invoice age is measured from that expected day in units of the scale
 * (z = (age − expected) ÷ scale) and the hazard of payment is learnt on that clock in bins of
 * a quarter of the scale, from every invoice issued by the fit date: a paid one is an
 * event in the bin it was paid in, one still open is censored at its age — at risk in the
 * bins it has lived through, never counted as paid or as missing — and one settled without
 * being paid (written off as bad debt, credited) is censored at the day it was settled: a
 * write-off is not a payment. Each customer has its own
 * hazards, shrunk towards everyone's by three invoices' worth of exposure per bin, so a
 * customer with invoices long open past their expected day is slow on its own clock.
 *
 * Expected days late: a least-squares fit on the settled invoices (recency-weighted, the
 * weight halving every 365 days), each with what its customer had shown before the invoice
 * was issued — recency-weighted mean (half-life 90 days) and spread of days late, the trend
 * of days late (a weighted slope carried to the invoice's due date, counted as far as it
 * stands out of its noise), the last payment, the plain mean, the history's length — and the
 * invoice's own amount relative to the customer's usual, dispute flag, billing channel, terms
 * and the customer's overdue balance. On top, the customer's own season: how much later (or
 * earlier) than its mean it paid the invoices due within 30 days of the same date a year
 * earlier, counted as far as that stands out of its spread. The scale is the customer's
 * recency-weighted error of that fit, shrunk towards everyone's.
 *
 * The customer's payment-run habit — paying on a fixed weekday, or on a fixed day of the
 * month — is detected from the dates it paid on, and each day's probability moves to the
 * nearest run day; without a habit, weekend days move to the Monday when payments almost
 * never land on a weekend.
 *
 * For each open invoice this gives a distribution of payment days conditional on its still
 * being open: the 10 % and 90 % points as the interval; the predicted day is the median,
 * blended with the customer's own median and mean wait (moved by what the model sees beyond
 * the customer's mean) by weights learnt at earlier origins, each scored by the model fitted
 * there — one set for customers keeping their habit, one for those whose change stands out
 * (`chooseBlend`) — then pulled towards the customer's plain mean wait as far as that mean
 * beat the blended day on the customer's own earlier invoices (`towardOwn`), and snapped to
 * the payment run; the probability of paying after the due date (what is
 * not paid within the clock counts as late) is blended with the customer's late share by a
 * logistic calibration (with its plain and recency-weighted late shares) learnt on the months before the fit date, scored by the models fitted
 * then (they had not seen the payments they are scored on), then through an isotonic map learnt on the same invoices.
 *
 * Cost: a sort and one pass over the invoices to fit (a 13 × 13 system for the expected
 * day), the same fit at six earlier origins (three above 100,000 invoices) for the
 * calibration, which with the blend reads at most 24,000 invoices; at most a few hundred bins
 * per open invoice to predict.
 */
const HALF_LIFE_FEATURES = 90;
const HALF_LIFE_FIT = 365;
const BIN = 0.25;
const Z_MIN = -5;
const Z_MAX = 10;
const BINS = Math.round((Z_MAX - Z_MIN) / BIN);
/** Most invoices the predicted-day blend and the late-probability calibration are learnt on (evenly spread over the candidates). */
const MAX_CASES = 24_000;
/** Pooled evidence a customer's own hazard is shrunk towards, in invoices' worth of exposure per bin. */
const PRIOR = 3;

export interface Habit {
  kind: 'weekday' | 'day_of_month' | 'none';
  /** 0 = Monday … 6 = Sunday, or day of the month 1–31. */
  day: number | null;
  /** Share of the customer's (recency-weighted) payments on that day (±1 for a day of the month). */
  share: number;
}

/** A customer's settled invoices by settlement day, with running sums for features as of any day. */
interface History {
  /** Settlement days (days since 1970-01-01), ascending. */
  settled: number[];
  /** Days late of each, its due day and its days to pay. */
  late: number[];
  pay: number[];
  due: number[];
  amount: number[];
  /** Running sums (index i: the first i entries), weights exp((settled − ref) / τ). */
  sw: Float64Array;
  swy: Float64Array;
  swyy: Float64Array;
  swx: Float64Array;
  swxx: Float64Array;
  swxy: Float64Array;
  sy: Float64Array;
  /** Running count of the ones paid after their due date. */
  slate: Float64Array;
  /** Running recency-weighted count of the ones paid after their due date (weights as `sw`). */
  swlate: Float64Array;
  samount: Float64Array;
  /** Running sums of the squared fit errors, same weights (filled after the fit). */
  swe2: Float64Array;
  /** By due day, for the same season a year earlier. */
  byDue: number[];
}

export interface HazardModel {
  asOf: string;
  /** Coefficients of the expected days late on `FEATURES`. */
  coef: number[];
  globalLate: number;
  globalScale: number;
  /** Pooled hazard per bin of z, and the daily rate past the last bin. */
  hazard: Float64Array;
  /** Mean days past the last bin of the payments made there (the wait of an invoice already that late). */
  tailWait: number;
  /** Per customer: its own hazard per bin, shrunk towards the pooled one. */
  byCustomer: Map<string, Float64Array>;
  histories: Map<string, History>;
  habits: Map<string, Habit & { weekday: number[]; dayOfMonth: number[] }>;
  /** Payments landing on a Saturday or Sunday are rare enough to move there to the Monday. */
  weekendRare: boolean;
  /**
   * Weights of the distribution's median and of the customer's median wait in the predicted day
   * (the rest is the customer's mean wait), for the invoices whose customer shows no change
   * standing out (`blend[0]`) and for those whose does (`blend[1]`); see `blendWeights`.
   */
  blend: [[number, number], [number, number]];
  /** How far the model's shift must stand out of the customer's usual error (in units of it) for the second weights; Infinity: one set for all. */
  standOut: number;
  /** Days to pay of every invoice settled by the fit date, ascending, with suffix sums. */
  pays: Pool;
  /** Per customer: weight of its own wait against the blended day (`towardOwn`). */
  towardOwn?: Map<string, number>;
  /** Late probability: σ(a + b·logit p + c·logit share), see `calibrate`. */
  calibration: Calibration;
  trainedOn: number;
}

interface Pool {
  sorted: Float64Array;
  /** suffix[i]: sum of sorted[i…]. */
  suffix: Float64Array;
}

function pool(values: number[]): Pool {
  const sorted = Float64Array.from(values).sort();
  const suffix = new Float64Array(sorted.length + 1);
  for (let i = sorted.length - 1; i >= 0; i--) suffix[i] = suffix[i + 1]! + sorted[i]!;
  return { sorted, suffix };
}

/** Mean of the pooled days to pay longer than `age` (null when none is). */
function pooledAfter(p: Pool, age: number): number | null {
  let lo = 0;
  let hi = p.sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (p.sorted[mid]! <= age) lo = mid + 1;
    else hi = mid;
  }
  const n = p.sorted.length - lo;
  return n > 0 ? p.suffix[lo]! / n : null;
}

/**
 * The customer's own mean wait for an invoice still open at `age`: its days to pay, among the
 * invoices settled before `beforeDay` that took longer than `age` (everyone's when it has none).
 */
function customerAfter(h: History | undefined, everyone: Pool, age: number, beforeDay: number): { mean: number; median: number } {
  const later: number[] = [];
  if (h) for (let i = 0; i < h.settled.length && h.settled[i]! < beforeDay; i++) if (h.pay[i]! > age) later.push(h.pay[i]!);
  if (later.length > 0) {
    later.sort((a, b) => a - b);
    const mid = later.length >> 1;
    return { mean: later.reduce((s, x) => s + x, 0) / later.length, median: later.length % 2 === 1 ? later[mid]! : (later[mid - 1]! + later[mid]!) / 2 };
  }
  const m = pooledAfter(everyone, age) ?? age + 7;
  return { mean: m, median: m };
}

/** Weights of the late probability's inputs (see `calibrationInputs`). */
interface Calibration {
  w: number[];
  /** Weight of the calibrated probability against the customer's plain late share (1: the calibrated one alone). */
  a?: number;
  /**
   * Isotonic map of that probability (knots: mean predicted, observed rate, ascending), learnt on
   * the same earlier invoices: the logistic blend cannot bend, and its probabilities came out
   * too high for the customers rarely late and too low for the ones mostly late.
   */
  iso?: { x: number[]; y: number[] };
}

/**
 * How far a set of differences (the model's error less the customer's own baseline's, on
 * the same earlier invoices) shows the baseline ahead, as a weight in [0, 1): t² ÷ (t² + 4)
 * of their mean over its standard error when the baseline did better on average, else 0.
 */
export function standingOut(diffs: number[]): number {
  const n = diffs.length;
  if (n < 3) return 0;
  const m = diffs.reduce((s, x) => s + x, 0) / n;
  if (m <= 0) return 0;
  const v = diffs.reduce((s, x) => s + (x - m) ** 2, 0) / (n - 1);
  const t2 = v > 0 ? (m * m * n) / v : Number.POSITIVE_INFINITY;
  return Number.isFinite(t2) ? t2 / (t2 + 4) : 1;
}

/** Cases' worth of its own mean prediction each isotonic block's observed rate is pulled towards. */
const ISO_PRIOR = 5;

/**
 * Pool-adjacent-violators on the (probability, outcome) pairs sorted by probability: blocks of
 * neighbours (and of equal probabilities) merged until their observed rates rise; then each
 * rate pulled towards the block's mean probability by `ISO_PRIOR` cases (a block of one late
 * invoice is not a certainty), kept rising.
 */
export function isotonic(pairs: { p: number; y: number }[]): { x: number[]; y: number[] } {
  const sorted = [...pairs].sort((u, v) => u.p - v.p);
  const blocks: { sp: number; sy: number; n: number }[] = [];
  for (const { p, y } of sorted) {
    blocks.push({ sp: p, sy: y, n: 1 });
    while (blocks.length > 1) {
      const c = blocks.at(-2)!;
      const b = blocks.at(-1)!;
      if (c.sy / c.n < b.sy / b.n && c.sp / c.n < b.sp / b.n) break;
      blocks.pop();
      c.sp += b.sp;
      c.sy += b.sy;
      c.n += b.n;
    }
  }
  const y: number[] = [];
  for (const b of blocks) y.push(Math.max(y.at(-1) ?? 0, (b.sy + (ISO_PRIOR * b.sp) / b.n) / (b.n + ISO_PRIOR)));
  return { x: blocks.map((b) => b.sp / b.n), y };
}

/** The isotonic map at `p`: linear between the knots; below the first towards 0, above the last towards 1. */
export function applyIsotonic(iso: { x: number[]; y: number[] }, p: number): number {
  const { x, y } = iso;
  const x0 = x[0]!;
  const xn = x.at(-1)!;
  const yn = y.at(-1)!;
  if (p <= x0) return x0 > 0 ? (y[0]! * p) / x0 : y[0]!;
  if (p >= xn) return xn < 1 ? yn + ((1 - yn) * (p - xn)) / (1 - xn) : yn;
  let lo = 0;
  let hi = x.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= p) lo = mid;
    else hi = mid;
  }
  return y[lo]! + ((p - x[lo]!) / (x[hi]! - x[lo]!)) * (y[hi]! - y[lo]!);
}

/** The customer's plain share of invoices paid late among those settled by `day` (null without any). */
function plainShare(h: History | undefined, day: number): number | null {
  if (!h) return null;
  const k = countBefore(h, day + 1);
  return k > 0 ? h.slate[k]! / k : null;
}

/**
 * 1, logit of the model's probability, logit of the customer's late share, whether the due
 * date falls on a weekend, and that times the share (a customer that pays at the last moment
 * is late when the due date is a Sunday and its payment lands on the Monday), and logit of the
 * customer's recency-weighted late share (half-life 90 days): a customer that has started or
 * stopped paying late shows it there before its plain share moves.
 */
function calibrationInputs(p: number, f: Known, share = f.share, recent = share): number[] {
  return [1, logit(p), logit(share), f.weekendDue, f.weekendDue * logit(share), logit(recent)];
}

/** The customer's recency-weighted share of invoices paid late among those settled by `day` (weights of the fit), shrunk by one recent invoice's worth towards ½. */
function recentShareBy(h: History | undefined, day: number): number {
  if (!h) return 0.5;
  const k = countBefore(h, day + 1);
  return (h.swlate[k]! + 0.5) / (h.sw[k]! + 1);
}

/** The customer's share of invoices paid late among those settled by `day`, shrunk: (late + ½) ÷ (paid + 1). */
function shareBy(h: History | undefined, day: number): number {
  if (!h) return 0.5;
  const k = countBefore(h, day + 1);
  return (h.slate[k]! + 0.5) / (k + 1);
}

export const FEATURES = ['intercept', 'has_history', 'ew_mean_late', 'trend', 'last_minus_mean', 'mean_late', 'ew_sd_late', 'log_n', 'rel_amount', 'disputed', 'electronic', 'terms', 'log_overdue'];

const DAY_MS = 86_400_000;
/** Day numbers of the dates seen so far: a fit reads each invoice's dates several times, and a million invoices share a few thousand dates. */
const dayNumbers = new Map<string, number>();
const epochDay = (date: string) => {
  let d = dayNumbers.get(date);
  if (d === undefined) {
    d = Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
    if (dayNumbers.size > 100_000) dayNumbers.clear();
    dayNumbers.set(date, d);
  }
  return d;
};
const weekdayOfEpoch = (d: number) => (d + 3) % 7; // 1970-01-01 was a Thursday; 0 = Monday
const domOfEpoch = (d: number) => new Date(d * DAY_MS).getUTCDate();
const isLastOfMonth = (d: number) => new Date((d + 1) * DAY_MS).getUTCDate() === 1;

/** The row fields the model reads; any missing invoice field takes a neutral value. */
export type HazardRow = Pick<FeatureRow, 'customer_key' | 'invoice_date' | 'terms_days'> & Partial<Pick<FeatureRow, 'due_date' | 'amount_cents' | 'is_disputed' | 'is_electronic' | 'overdue_cents' | 'currency'>>;


/** The columns of feature rows: a paid invoice settles on its payment day; one settled without days to pay is censored at its settlement day. */
export function hazardColumns(rows: HazardRow[] & Partial<Pick<FeatureRow, 'settled_date' | 'days_to_pay'>>[]): HazardColumns {
  const c = emptyColumns(rows.length);
  const index = new Map<string, number>();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]! as HazardRow & Partial<Pick<FeatureRow, 'settled_date' | 'days_to_pay'>>;
    let k = index.get(r.customer_key);
    if (k === undefined) {
      index.set(r.customer_key, (k = c.customerKeys.length));
      c.customerKeys.push(r.customer_key);
    }
    c.customer[i] = k;
    const issued = epochDay(r.invoice_date);
    c.issued[i] = issued;
    c.due[i] = r.due_date ? epochDay(r.due_date) : issued + r.terms_days;
    c.counted[i] = r.days_to_pay !== null && r.days_to_pay !== undefined ? 1 : 0;
    if (c.counted[i]) c.settled[i] = issued + r.days_to_pay!;
    else if (r.settled_date !== null && r.settled_date !== undefined) c.settled[i] = epochDay(r.settled_date);
    c.amount[i] = r.amount_cents ?? 0;
    c.terms[i] = r.terms_days;
    c.disputed[i] = r.is_disputed ? 1 : 0;
    c.electronic[i] = r.is_electronic ? 1 : 0;
    c.overdue[i] = r.overdue_cents ? Math.log1p(r.overdue_cents / 10 ** currencyExponent(r.currency ?? 'EUR')) : 0;
  }
  return c;
}

/** Weights relative to the fit date keep exp() in range whatever the calendar. Indexed by customer. */
function buildHistories(cols: HazardColumns, known: Int32Array, asOfDay: number): (History | undefined)[] {
  const by: ({ s: number; l: number; d: number; a: number; p: number }[] | undefined)[] = new Array(cols.customerKeys.length);
  for (const j of known) {
    const s = cols.settled[j]!;
    if (s > asOfDay || !cols.counted[j]) continue;
    const due = cols.due[j]!;
    const c = cols.customer[j]!;
    const list = by[c] ?? (by[c] = []);
    list.push({ s, l: s - due, d: due, a: cols.amount[j]!, p: s - cols.issued[j]! });
  }
  const out: (History | undefined)[] = new Array(cols.customerKeys.length);
  for (let c = 0; c < by.length; c++) {
    const list = by[c];
    if (!list) continue;
    list.sort((x, y) => x.s - y.s);
    const n = list.length;
    const h: History = {
      settled: list.map((x) => x.s), late: list.map((x) => x.l), pay: list.map((x) => x.p), due: list.map((x) => x.d), amount: list.map((x) => x.a),
      sw: new Float64Array(n + 1), swy: new Float64Array(n + 1), swyy: new Float64Array(n + 1), swx: new Float64Array(n + 1), swxx: new Float64Array(n + 1),
      swxy: new Float64Array(n + 1), sy: new Float64Array(n + 1), slate: new Float64Array(n + 1), swlate: new Float64Array(n + 1), samount: new Float64Array(n + 1), swe2: new Float64Array(n + 1), byDue: [],
    };
    for (let i = 0; i < n; i++) {
      const w = Math.exp((list[i]!.s - asOfDay) / HALF_LIFE_FEATURES * Math.LN2);
      const x = (list[i]!.d - asOfDay) / 30;
      const y = list[i]!.l;
      h.sw[i + 1] = h.sw[i]! + w;
      h.swy[i + 1] = h.swy[i]! + w * y;
      h.swyy[i + 1] = h.swyy[i]! + w * y * y;
      h.swx[i + 1] = h.swx[i]! + w * x;
      h.swxx[i + 1] = h.swxx[i]! + w * x * x;
      h.swxy[i + 1] = h.swxy[i]! + w * x * y;
      h.sy[i + 1] = h.sy[i]! + y;
      h.slate[i + 1] = h.slate[i]! + (y > 0 ? 1 : 0);
      h.swlate[i + 1] = h.swlate[i]! + (y > 0 ? w : 0);
      h.samount[i + 1] = h.samount[i]! + list[i]!.a;
    }
    h.byDue = list.map((_, i) => i).sort((a, b) => h.due[a]! - h.due[b]!);
    out[c] = h;
  }
  return out;
}

/** Number of entries settled strictly before `day`. */
function countBefore(h: History, day: number): number {
  let lo = 0;
  let hi = h.settled.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (h.settled[mid]! < day) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Known {
  n: number;
  x: number[];
  /** The customer's own seasonal offset in days late, added to the fit (not weighed by it). */
  offset: number;
  /** The customer's share paid late before the invoice date, shrunk: (late + ½) ÷ (paid + 1). */
  share: number;
  /** The due date falls on a Saturday or a Sunday. */
  weekendDue: number;
  /** Index into the history (entries before the invoice date). */
  k: number;
}

/** The feature vector of an invoice, from what its customer had shown before the invoice date. */
function features(h: History | undefined, r: HazardRow, asOfDay: number, globalLate: number, knownBefore?: number): Known {
  const issued = epochDay(r.invoice_date);
  const due = r.due_date ? epochDay(r.due_date) : issued + r.terms_days;
  const overdue = r.overdue_cents ? Math.log1p(r.overdue_cents / 10 ** currencyExponent(r.currency ?? 'EUR')) : 0;
  return featuresOf(h, issued, due, r.amount_cents ?? 0, [r.is_disputed ? 1 : 0, r.is_electronic ? 1 : 0, r.terms_days, overdue], asOfDay, globalLate, knownBefore);
}

/** The same, for invoice `j` of the columns. */
function featuresAt(h: History | undefined, cols: HazardColumns, j: number, asOfDay: number, globalLate: number): Known {
  return featuresOf(h, cols.issued[j]!, cols.due[j]!, cols.amount[j]!, [cols.disputed[j]!, cols.electronic[j]!, cols.terms[j]!, cols.overdue[j]!], asOfDay, globalLate);
}

function featuresOf(h: History | undefined, issued: number, due: number, amount: number, invoice: number[], asOfDay: number, globalLate: number, knownBefore?: number): Known {
  const k = h ? countBefore(h, knownBefore ?? issued) : 0;
  if (!h || k === 0) return { n: 0, k: 0, offset: 0, share: 0.5, weekendDue: weekdayOfEpoch(due) >= 5 ? 1 : 0, x: [1, 0, globalLate, 0, 0, globalLate, 0, 0, 0, ...invoice] };
  const sw = h.sw[k]!;
  const mean = h.swy[k]! / sw;
  const sd = Math.sqrt(Math.max(0, h.swyy[k]! / sw - mean * mean));
  // Weighted slope of days late on the due day (per 30 days), shrunk by the history's length, carried to this invoice's due day.
  const mx = h.swx[k]! / sw;
  const vx = h.swxx[k]! / sw - mx * mx;
  // The slope counts as far as it stands out of its own noise: shrunk by t² ÷ (t² + 4).
  const raw = k >= 4 && vx > 1e-6 ? (h.swxy[k]! / sw - mx * mean) / vx : 0;
  const resid = Math.max(1, sd * sd - raw * raw * vx);
  const t2 = (raw * raw * vx * k) / resid;
  const slope = raw * (t2 / (t2 + 4));
  const trend = Math.max(-45, Math.min(45, slope * ((due - asOfDay) / 30 - mx)));
  // The same season a year earlier: invoices due within 30 days of this due date, a year back
  // (found by bisection in the history sorted by due day).
  let sSum = 0;
  let sN = 0;
  const target = due - 365;
  let lo = 0;
  let hi = h.byDue.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (h.due[h.byDue[mid]!]! < target - 30) lo = mid + 1;
    else hi = mid;
  }
  for (let q = lo; q < h.byDue.length; q++) {
    const i = h.byDue[q]!;
    if (h.due[i]! > target + 30) break;
    if (i < k) {
      sSum += h.late[i]!;
      sN++;
    }
  }
  const plain = h.sy[k]! / k;
  const gap = sN > 0 ? sSum / sN - plain : 0;
  const ts = (gap * gap * sN) / Math.max(1, sd * sd);
  const offset = sN >= 2 ? gap * (ts / (ts + 4)) : 0;
  const share = (h.slate[k]! + 0.5) / (k + 1);
  const usual = h.samount[k]! / k;
  const rel = amount && usual > 0 ? Math.log(Math.max(1, amount) / Math.max(1, usual)) : 0;
  return { n: k, k, offset, share, weekendDue: weekdayOfEpoch(due) >= 5 ? 1 : 0, x: [1, 1, mean, trend, h.late[k - 1]! - mean, plain, sd, Math.log1p(k), rel, ...invoice] };
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Weighted least squares with a small ridge, solved by Gaussian elimination; columns that never vary get 0. */
function leastSquares(xtx: Float64Array, xty: Float64Array, p: number): number[] {
  const a = Array.from({ length: p }, (_, i) => Array.from({ length: p + 1 }, (_, j) => (j < p ? xtx[i * p + j]! : xty[i]!)));
  for (let i = 1; i < p; i++) a[i]![i]! += 1e-6 * (a[i]![i]! + 1);
  for (let c = 0; c < p; c++) {
    let piv = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[piv]![c]!)) piv = r;
    [a[c], a[piv]] = [a[piv]!, a[c]!];
    const d = a[c]![c]!;
    if (Math.abs(d) < 1e-12) continue;
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / d;
      if (f !== 0) for (let j = c; j <= p; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  return a.map((row, i) => (Math.abs(row[i]!) < 1e-12 ? 0 : row[p]! / row[i]!));
}

/**
 * A payment-run habit: at least 6 payments, and at least 60 % of the recency-weighted ones on
 * one weekday, or at least 60 % within a day of one day of the month. None otherwise.
 */
export function detectHabit(weekday: number[], dom: number[], payments: number): Habit {
  const total = weekday.reduce((s, x) => s + x, 0);
  if (payments < 6 || total <= 0) return { kind: 'none', day: null, share: 0 };
  const wd = weekday.indexOf(Math.max(...weekday));
  const wdShare = weekday[wd]! / total;
  let best = 1;
  let bestShare = 0;
  for (let d = 1; d <= 31; d++) {
    const s = ((dom[d - 1] ?? 0) + (dom[d - 2] ?? 0) + (dom[d % 31] ?? 0)) / total;
    // On a tie the day itself decides (the window around the 15th and the 14th may hold the same).
    if (s > bestShare + 1e-9 || (Math.abs(s - bestShare) <= 1e-9 && (dom[d - 1] ?? 0) > (dom[best - 1] ?? 0))) [best, bestShare] = [d, s];
  }
  if (wdShare >= 0.6 && wdShare >= bestShare) return { kind: 'weekday', day: wd, share: wdShare };
  if (bestShare >= 0.6) return { kind: 'day_of_month', day: best, share: bestShare };
  return { kind: 'none', day: null, share: Math.max(wdShare, bestShare) };
}

const binOf = (z: number) => Math.max(0, Math.min(BINS - 1, Math.floor((z - Z_MIN) / BIN)));

/** Above this many invoices the refits at earlier origins for the calibration read only the customers of the invoices they score. */
const LARGE = 100_000;

/**
 * Fits on every invoice issued by `asOf`, with only what was known then. The rows may come as
 * columns (`hazardColumns`, or read straight from the warehouse) to spare a million row objects.
 */
export function fitHazard(rows: FeatureRow[] | HazardColumns, asOf: string): HazardModel {
  const cols = Array.isArray(rows) ? hazardColumns(rows) : rows;
  const asOfDay = epochDay(asOf);
  let m = 0;
  for (let j = 0; j < cols.n; j++) if (cols.issued[j]! <= asOfDay) m++;
  const known = new Int32Array(m);
  m = 0;
  for (let j = 0; j < cols.n; j++) if (cols.issued[j]! <= asOfDay) known[m++] = j;
  return fitColumns(cols, known, asOfDay, false).model;
}

interface Fitted {
  model: HazardModel;
  /** The customers' histories by customer index. */
  hist: (History | undefined)[];
}

/** The fit on the invoices `known` (indices into `cols`, in their order); `nested`: a refit at an earlier origin, without its own calibration. */
function fitColumns(cols: HazardColumns, known: Int32Array, asOfDay: number, nested: boolean): Fitted {
  const asOf = new Date(asOfDay * DAY_MS).toISOString().slice(0, 10);
  const hist = buildHistories(cols, known, asOfDay);
  const n = known.length;
  const paid = (j: number) => cols.settled[j]! <= asOfDay && cols.counted[j] === 1;
  let nSettled = 0;
  let lateSum = 0;
  for (const j of known) {
    if (!paid(j)) continue;
    nSettled++;
    lateSum += cols.settled[j]! - cols.due[j]!;
  }
  const globalLate = nSettled > 0 ? lateSum / nSettled : 0;
  // Expected days late: weighted least squares on the settled invoices.
  const p = FEATURES.length;
  const xtx = new Float64Array(p * p);
  const xty = new Float64Array(p);
  const feats = new Array<Known>(n);
  const recency = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const j = known[i]!;
    feats[i] = featuresAt(hist[cols.customer[j]!], cols, j, asOfDay, globalLate);
    recency[i] = 0.5 ** ((asOfDay - cols.issued[j]!) / HALF_LIFE_FIT);
  }
  for (let i = 0; i < n; i++) {
    const j = known[i]!;
    if (!paid(j)) continue;
    const x = feats[i]!.x;
    const w = recency[i]!;
    const y = cols.settled[j]! - cols.due[j]! - feats[i]!.offset;
    for (let a = 0; a < p; a++) {
      if (x[a] === 0) continue;
      xty[a]! += w * x[a]! * y;
      for (let b = 0; b < p; b++) xtx[a * p + b]! += w * x[a]! * x[b]!;
    }
  }
  // Few invoices: the customer's own mean days late (everyone's without history).
  const coef = nSettled >= 3 * p ? leastSquares(xtx, xty, p) : FEATURES.map((name) => (name === 'mean_late' ? 1 : 0));
  const expectedLate = (i: number) => dot(coef, feats[i]!.x) + feats[i]!.offset;
  // The customer's error around its expected day, settled strictly before each invoice: running sums by settlement day.
  const errors: (Map<number, number> | undefined)[] = new Array(cols.customerKeys.length);
  let e2 = 0;
  let e2n = 0;
  for (let i = 0; i < n; i++) {
    const j = known[i]!;
    if (!paid(j)) continue;
    const s = cols.settled[j]!;
    const err = s - cols.due[j]! - expectedLate(i);
    e2 += recency[i]! * err * err;
    e2n += recency[i]!;
    const c = cols.customer[j]!;
    const e = errors[c] ?? (errors[c] = new Map());
    e.set(s, (e.get(s) ?? 0) + err * err);
  }
  const globalScale = Math.max(1.5, Math.sqrt(e2 / Math.max(1e-9, e2n)));
  const histories = new Map<string, History>();
  for (let c = 0; c < hist.length; c++) {
    const h = hist[c];
    if (!h) continue;
    histories.set(cols.customerKeys[c]!, h);
    const e = errors[c];
    // Several invoices settled on one day share that day's sum, spread evenly over them.
    const perDay = new Map<number, number>();
    for (const s of h.settled) perDay.set(s, (perDay.get(s) ?? 0) + 1);
    for (let i = 0; i < h.settled.length; i++) {
      const s = h.settled[i]!;
      const w = Math.exp((s - asOfDay) / HALF_LIFE_FEATURES * Math.LN2);
      h.swe2[i + 1] = h.swe2[i]! + (w * (e?.get(s) ?? 0)) / perDay.get(s)!;
    }
  }
  const model: HazardModel = {
    asOf, coef, globalLate, globalScale, hazard: new Float64Array(BINS), tailWait: 30, byCustomer: new Map(), histories, habits: new Map(),
    weekendRare: false, calibration: { w: [0, 1, 0, 0, 0, 0] }, blend: [[1, 0], [1, 0]], standOut: Number.POSITIVE_INFINITY, pays: pool([]), trainedOn: n,
  };
  // The pooled hazard on the z clock: events and exposure per bin, each invoice weighted by recency.
  const events = new Float64Array(BINS);
  const exposure = new Float64Array(BINS);
  let tailPaid = 0;
  let tailDays = 0;
  const own: ({ events: Float64Array; exposure: Float64Array } | undefined)[] = new Array(cols.customerKeys.length);
  for (let i = 0; i < n; i++) {
    const j = known[i]!;
    const isPaid = paid(j);
    const issued = cols.issued[j]!;
    const cu = cols.customer[j]!;
    const { mu, scale } = locationAt(model, issued, cols.due[j]!, hist[cu], feats[i]!);
    // A payment on day d is an event at z(d); an invoice open on the fit date has lived through
    // its age, one settled without a payment (written off, credited) through the day before.
    const day = isPaid || cols.settled[j]! <= asOfDay ? cols.settled[j]! - issued : asOfDay - issued + 1;
    const z = (day - mu) / scale;
    const w = recency[i]!;
    const c = own[cu] ?? (own[cu] = { events: new Float64Array(BINS), exposure: new Float64Array(BINS) });
    const b = binOf(z);
    const part = isPaid ? 1 : Math.min(1, Math.max(0, (z - (Z_MIN + b * BIN)) / BIN));
    for (let k = 0; k < b; k++) {
      exposure[k]! += w;
      c.exposure[k]! += w;
    }
    exposure[b]! += w * part;
    c.exposure[b]! += w * part;
    if (isPaid) {
      events[b]! += w;
      c.events[b]! += w;
    }
    if (isPaid && z >= Z_MAX) {
      tailDays += day - (mu + Z_MAX * scale);
      tailPaid++;
    }
  }
  // Bins few invoices reached borrow from their neighbours (a window wide enough to hold 30 invoices' exposure).
  for (let k = 0; k < BINS; k++) {
    let e = events[k]!;
    let x = exposure[k]!;
    for (let h = 1; x < 30 && h < 20; h++) {
      e += (events[k - h] ?? 0) + (events[k + h] ?? 0);
      x += (exposure[k - h] ?? 0) + (exposure[k + h] ?? 0);
    }
    model.hazard[k] = x > 0 ? Math.min(1, e / x) : 0;
  }
  model.tailWait = tailPaid > 0 ? Math.max(7, tailDays / tailPaid) : 30;
  for (let cu = 0; cu < own.length; cu++) {
    const c = own[cu];
    if (!c) continue;
    const h = new Float64Array(BINS);
    for (let k = 0; k < BINS; k++) h[k] = (c.events[k]! + PRIOR * model.hazard[k]!) / (c.exposure[k]! + PRIOR);
    model.byCustomer.set(cols.customerKeys[cu]!, h);
  }
  // Payment runs, and how rare weekend payments are.
  let weekend = 0;
  const habitCounts: ({ weekday: number[]; dom: number[]; n: number } | undefined)[] = new Array(cols.customerKeys.length);
  for (let i = 0; i < n; i++) {
    const j = known[i]!;
    if (!paid(j)) continue;
    const s = cols.settled[j]!;
    const w = recency[i]!;
    const cu = cols.customer[j]!;
    const h = habitCounts[cu] ?? (habitCounts[cu] = { weekday: new Array<number>(7).fill(0), dom: new Array<number>(31).fill(0), n: 0 });
    h.weekday[weekdayOfEpoch(s)]! += w;
    h.dom[domOfEpoch(s) - 1]! += w;
    h.n++;
    if (weekdayOfEpoch(s) >= 5) weekend++;
  }
  model.weekendRare = nSettled > 0 && weekend / nSettled < 0.05;
  for (let cu = 0; cu < habitCounts.length; cu++) {
    const h = habitCounts[cu];
    if (h) model.habits.set(cols.customerKeys[cu]!, { ...detectHabit(h.weekday, h.dom, h.n), weekday: h.weekday, dayOfMonth: h.dom });
  }
  if (nested) return { model, hist };
  const pays: number[] = [];
  for (const j of known) if (paid(j)) pays.push(cols.settled[j]! - cols.issued[j]!);
  model.pays = pool(pays);
  const { calibration, blendCases } = calibrate(model, cols, known, asOfDay);
  model.calibration = calibration;
  const blend = chooseBlend(blendCases);
  model.blend = blend.weights;
  model.standOut = blend.standOut;
  model.towardOwn = towardOwn(blendCases, blend, cols.customerKeys);
  return { model, hist };
}

/** Expected payment day (days from the invoice date) and the scale of its error. */
function locationAt(model: HazardModel, issued: number, due: number, h: History | undefined, f: Known): { mu: number; scale: number } {
  const late = Math.max(-60, Math.min(365, dot(model.coef, f.x) + f.offset));
  let scale = model.globalScale;
  if (h && f.k > 0) {
    const sw = h.sw[f.k]!;
    // Shrunk towards everyone's by three recent invoices' worth (the weight of one settled today is 1).
    const prior = 3 * Math.exp(((issued - epochDay(model.asOf)) / HALF_LIFE_FEATURES) * Math.LN2);
    scale = Math.sqrt((h.swe2[f.k]! + prior * model.globalScale ** 2) / (sw + prior));
  }
  return { mu: due - issued + late, scale: Math.max(1.5, scale) };
}

/**
 * At most `max` of `items`, evenly spread over them (all of them when there are fewer): the
 * weights of the blend and of the calibration are a handful of numbers, and twenty thousand
 * invoices settle them as well as a million do.
 */
function evenly<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  const step = items.length / max;
  return Array.from({ length: Math.floor(max) }, (_, j) => items[Math.floor(j * step)]!);
}

function quantiles(mass: Map<number, number>, first: number, qs: number[]): number[] {
  const days = [...mass.keys()].sort((a, b) => a - b);
  const sum = days.reduce((s, d) => s + mass.get(d)!, 0);
  return qs.map((q) => {
    if (sum <= 0) return first;
    let c = 0;
    for (const d of days) {
      c += mass.get(d)! / sum;
      if (c >= q - 1e-12) return d;
    }
    return days.at(-1)!;
  });
}

/**
 * The late probability is a logistic blend of the model's own and the customer's share of
 * invoices paid late (shrunk: (late + ½) ÷ (paid + 1)) and its recency-weighted share, with
 * whether the due date falls on a weekend (`calibrationInputs`), then weighed against the customer's plain late share by the
 * weight in [0, 1] with the least squared error. Both are learnt on the invoices not yet due
 * 30, 60, … 180 days before the fit date whose lateness was known by the fit date (every other
 * origin above 100,000 invoices), each scored by the model fitted at its origin — which had
 * not seen its payment — and told the customer's share as it stood then, with a small pull
 * towards the model's own probability. Above 100,000 invoices the model at an origin is fitted
 * on the customers of the invoices it scores. Nothing after the fit date is read.
 */
function calibrate(model: HazardModel, cols: HazardColumns, known: Int32Array, asOfDay: number): { calibration: Calibration; blendCases: BlendCase[] } {
  const blendCases: BlendCase[] = [];
  const xs: number[][] = [];
  const ys: number[] = [];
  const plains: (number | null)[] = [];
  // Each origin costs a fit: above 100,000 invoices, every other one.
  const backs = known.length > LARGE ? [30, 90, 150] : [30, 60, 90, 120, 150, 180];
  for (const back of backs) {
    const originDay = asOfDay - back;
    const cases: { j: number; late: number }[] = [];
    for (const j of known) {
      const issued = cols.issued[j]!;
      if (issued > originDay) continue;
      const due = cols.due[j]!;
      if (due <= originDay || due >= asOfDay) continue;
      const s = cols.settled[j]! <= asOfDay ? cols.settled[j]! : null;
      if (s !== null && s <= originDay) continue;
      cases.push({ j, late: s === null || s > due ? 1 : 0 });
    }
    // Open at the origin and paid by the fit date: the predicted day's blend is scored on them.
    const paidSince: number[] = [];
    for (const j of known) if (cols.issued[j]! <= originDay && cols.settled[j]! > originDay && cols.settled[j]! <= asOfDay && cols.counted[j]) paidSince.push(j);
    if (cases.length === 0 && paidSince.length === 0) continue;
    const scored = evenly(cases, MAX_CASES / backs.length);
    const dated = evenly(paidSince, MAX_CASES / backs.length);
    // The model as it stood at that origin: it has not seen these invoices' payments.
    let atOrigin: number[] = [];
    if (known.length > LARGE) {
      const mine = new Uint8Array(cols.customerKeys.length);
      for (const { j } of scored) mine[cols.customer[j]!] = 1;
      for (const j of dated) mine[cols.customer[j]!] = 1;
      for (const j of known) if (cols.issued[j]! <= originDay && mine[cols.customer[j]!]) atOrigin.push(j);
    } else {
      atOrigin = [];
      for (const j of known) if (cols.issued[j]! <= originDay) atOrigin.push(j);
    }
    const sub = fitColumns(cols, Int32Array.from(atOrigin), originDay, true);
    const before: number[] = [];
    for (const j of atOrigin) if (cols.settled[j]! <= originDay && cols.counted[j]) before.push(cols.settled[j]! - cols.issued[j]!);
    const everyone = pool(before);
    for (const j of dated) {
      const cu = cols.customer[j]!;
      const h = sub.hist[cu];
      const age = originDay - cols.issued[j]!;
      const f = featuresAt(h, cols, j, originDay, sub.model.globalLate);
      const { mass, first } = rawAt(sub.model, cols.issued[j]!, cols.due[j]!, cols.customerKeys[cu]!, h, f, age);
      const own = customerAfter(h, everyone, age, originDay + 1);
      const d = shift(sub.model, f);
      blendCases.push({ t: standsOut(sub.model, cols.issued[j]!, cols.due[j]!, h, f), h: quantiles(mass, first, [0.5])[0]!, mean: own.mean + d, median: own.median + d, actual: cols.settled[j]! - cols.issued[j]!, customer: cu, plainMean: own.mean });
    }
    for (const { j, late } of scored) {
      const cu = cols.customer[j]!;
      const h = sub.hist[cu];
      const f = featuresAt(h, cols, j, originDay, sub.model.globalLate);
      const r = rawAt(sub.model, cols.issued[j]!, cols.due[j]!, cols.customerKeys[cu]!, h, f, originDay - cols.issued[j]!);
      xs.push(calibrationInputs(r.probLate, f, shareBy(h, originDay), recentShareBy(h, originDay)));
      ys.push(late);
      plains.push(plainShare(h, originDay));
    }
  }
  const k = calibrationInputs(0.5, { n: 0, k: 0, x: [], offset: 0, share: 0.5, weekendDue: 0 }).length;
  // With no pull at all the model's own probability is taken as it is.
  const prior = Array.from({ length: k }, (_, j) => (j === 1 ? 1 : 0));
  if (xs.length < 30 || ys.every((y) => y === ys[0])) return { calibration: { w: prior }, blendCases };
  // Newton's method, with a ridge towards the model's own probability.
  const w = [...prior];
  for (let it = 0; it < 30; it++) {
    const g = new Array<number>(k).fill(0);
    const h = new Float64Array(k * k);
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i]!;
      const q = 1 / (1 + Math.exp(-dot(w, v)));
      for (let a = 0; a < k; a++) {
        g[a]! += (q - ys[i]!) * v[a]!;
        for (let b = 0; b < k; b++) h[a * k + b]! += q * (1 - q) * v[a]! * v[b]!;
      }
    }
    for (let a = 0; a < k; a++) {
      g[a]! += w[a]! - prior[a]!;
      h[a * (k + 1)]! += 1;
    }
    const step = leastSquares(h, Float64Array.from(g), k);
    for (let a = 0; a < k; a++) w[a]! -= step[a]!;
    if (step.reduce((s2, x) => s2 + Math.abs(x), 0) < 1e-8) break;
  }
  if (!w.every(Number.isFinite)) return { calibration: { w: prior }, blendCases };
  // Least squares of the outcome on the calibrated probability and the plain share: the weight a in [0, 1].
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    const sh = plains[i];
    if (sh === null || sh === undefined) continue;
    const q = 1 / (1 + Math.exp(-dot(w, xs[i]!)));
    num += (ys[i]! - sh) * (q - sh);
    den += (q - sh) ** 2;
  }
  const a = den > 0 ? Math.min(1, Math.max(0, num / den)) : 1;
  // The probability so blended, on the same invoices, against what happened: its isotonic map.
  const pairs: { p: number; y: number }[] = [];
  for (let i = 0; i < xs.length; i++) {
    const q = 1 / (1 + Math.exp(-dot(w, xs[i]!)));
    const sh = plains[i];
    pairs.push({ p: sh === null || sh === undefined ? q : a * q + (1 - a) * sh, y: ys[i]! });
  }
  return { calibration: { w, a, iso: isotonic(pairs) }, blendCases };
}

const MEAN_LATE = FEATURES.indexOf('mean_late');

/**
 * What the model sees beyond the customer's plain mean: its expected days late (recent
 * payments, trend carried to the due date, the customer's own season, the invoice's amount,
 * terms, dispute flag) less the customer's plain mean days late, in days. The customer's mean
 * and median wait are moved by it before they are blended, so a customer that is getting
 * slower, or whose season is coming, is not predicted at its old average.
 */
function shift(model: HazardModel, f: Known): number {
  return f.k > 0 ? Math.max(-60, Math.min(365, dot(model.coef, f.x) + f.offset)) - f.x[MEAN_LATE]! : 0;
}

/**
 * How far what the model sees beyond the customer's plain mean (`shift`) stands out of the
 * customer's usual error around its expected day, in units of that error: 0 for a customer
 * that keeps its habit, 1 or more for one that is changing (getting slower, its season
 * coming) as far as its history shows.
 */
function standsOut(model: HazardModel, issued: number, due: number, h: History | undefined, f: Known): number {
  return Math.abs(shift(model, f)) / locationAt(model, issued, due, h, f).scale;
}

export interface BlendCase {
  /** How far the customer's change stands out (`standsOut`). */
  t: number;
  /** The distribution's median, the customer's mean and median wait (days from the invoice date), and the day paid. */
  h: number;
  mean: number;
  median: number;
  actual: number;
  /** The customer (index into the columns), and its mean wait before the model's shift. */
  customer?: number;
  plainMean?: number;
}

/**
 * Weights (in twentieths, summing to 1) of the distribution's median, the customer's median
 * wait and its mean wait with the least absolute error on the invoices open at the earlier
 * origins and paid by the fit date, each scored by the model fitted at its origin.
 */
/** Sum of absolute errors of the predicted day under weights `w` (model median, customer median; the rest the customer mean). */
function blendError(cases: BlendCase[], w: [number, number]): number {
  let err = 0;
  for (const x of cases) err += Math.abs(Math.round(w[0] * x.h + w[1] * x.median + (1 - w[0] - w[1]) * x.mean) - x.actual);
  return err;
}

/** Thresholds of `standsOut` tried for the second set of weights (Infinity: one set for every invoice, as before). */
const STAND_OUT = [0.25, 0.5, 1, Number.POSITIVE_INFINITY];

/**
 * The predicted day's weights, one set for the invoices of customers keeping their habit and
 * one for those whose change stands out at least `standOut` (a customer that keeps its habit is
 * best predicted by its own median wait, one that changes by the model): the threshold among
 * `STAND_OUT` and both sets with the least absolute error on the invoices open at the earlier
 * origins and paid by the fit date, each scored by the model fitted at its origin. A side with
 * fewer than 30 invoices takes the weights learnt on all of them. On a tie, one set for all.
 */
export function chooseBlend(cases: BlendCase[]): { weights: [[number, number], [number, number]]; standOut: number } {
  const all = blendWeights(cases);
  let best = { weights: [all, all] as [[number, number], [number, number]], standOut: Number.POSITIVE_INFINITY };
  let bestErr = blendError(cases, all);
  for (const th of STAND_OUT) {
    if (!Number.isFinite(th)) continue;
    const steady = cases.filter((x) => x.t < th);
    const changing = cases.filter((x) => x.t >= th);
    const weights: [[number, number], [number, number]] = [steady.length >= 30 ? blendWeights(steady) : all, changing.length >= 30 ? blendWeights(changing) : all];
    const err = blendError(steady, weights[0]) + blendError(changing, weights[1]);
    if (err < bestErr - 1e-9) [best, bestErr] = [{ weights, standOut: th }, err];
  }
  return best;
}

/**
 * Per customer, the weight of its plain mean wait (over its past payments later than the
 * invoice's age, not moved by the model) against the blended day: how far that mean has
 * beaten the blended day on the customer's own invoices open at the earlier origins, each
 * scored by the model fitted there (`standingOut`). A customer whose mean has beaten the
 * model before — one paying at random, or keeping a habit the model reads changes into —
 * gets more of its mean; one the model has served well keeps the blend.
 */
export function towardOwn(cases: BlendCase[], blend: { weights: [[number, number], [number, number]]; standOut: number }, keys: string[]): Map<string, number> {
  const out = new Map<string, number>();
  const diffs: number[][] = [];
  for (const x of cases) {
    if (x.customer === undefined || x.plainMean === undefined) continue;
    const [wh, wm] = blend.weights[x.t >= blend.standOut ? 1 : 0];
    const b = Math.round(wh * x.h + wm * x.median + (1 - wh - wm) * x.mean);
    (diffs[x.customer] ??= []).push(Math.abs(b - x.actual) - Math.abs(Math.round(x.plainMean) - x.actual));
  }
  for (let c = 0; c < diffs.length; c++) {
    const w = diffs[c] ? standingOut(diffs[c]!) : 0;
    if (w > 0) out.set(keys[c]!, w);
  }
  return out;
}

function blendWeights(cases: BlendCase[]): [number, number] {
  if (cases.length < 30) return [1, 0];
  let best: [number, number] = [1, 0];
  let bestErr = Number.POSITIVE_INFINITY;
  // From the model alone down: on a tie the model's own median stays.
  for (let a = 20; a >= 0; a--) {
    for (let b = 0; b <= 20 - a; b++) {
      const wh = a / 20;
      const wm = b / 20;
      let err = 0;
      for (const x of cases) err += Math.abs(Math.round(wh * x.h + wm * x.median + (1 - wh - wm) * x.mean) - x.actual);
      if (err < bestErr - 1e-9) [best, bestErr] = [[wh, wm], err];
    }
  }
  return best;
}



const logit = (p: number) => {
  const q = Math.min(1 - 1e-4, Math.max(1e-4, p));
  return Math.log(q / (1 - q));
};

export interface HazardPrediction {
  /** Days from the invoice date: median, 10 % and 90 % points of the payment day. */
  days: number;
  p10: number;
  p90: number;
  probLate: number;
  /** `points` equally likely payment days (from the invoice date), for the weekly cash spread. */
  outcomes: number[];
}

/** The day a customer's payment lands on: the nearest day of its payment run, or the Monday after a weekend. */
function snap(model: HazardModel, habit: Habit | undefined, issued: number, day: number, first: number): number {
  const abs = issued + day;
  if (habit?.kind === 'weekday') {
    const delta = ((habit.day! - weekdayOfEpoch(abs) + 10) % 7) - 3; // −3 … +3
    return Math.max(first, day + delta);
  }
  if (habit?.kind === 'day_of_month') {
    for (let delta = 0; delta <= 15; delta++) {
      for (const s of delta === 0 ? [0] : [-delta, delta]) {
        const d = abs + s;
        const dom = domOfEpoch(d);
        if ((dom === habit.day || (habit.day! > dom && isLastOfMonth(d))) && day + s >= first) return day + s;
      }
    }
    return day;
  }
  if (model.weekendRare) {
    const wd = weekdayOfEpoch(abs);
    if (wd >= 5) return day + (7 - wd);
  }
  return day;
}

/**
 * The distribution before calibration: payment-day masses from `age + 1` on, given that a
 * payment comes while the clock still has bins, and the probability of paying late (what is
 * still unpaid past the last bin counts as late).
 */
function raw(model: HazardModel, r: HazardRow, f: Known, age: number): { mass: Map<number, number>; probLate: number; first: number } {
  const issued = epochDay(r.invoice_date);
  const due = r.due_date ? epochDay(r.due_date) : issued + r.terms_days;
  return rawAt(model, issued, due, r.customer_key, model.histories.get(r.customer_key), f, age);
}

function rawAt(model: HazardModel, issued: number, due: number, customer: string, h: History | undefined, f: Known, age: number): { mass: Map<number, number>; probLate: number; first: number } {
  const { mu, scale } = locationAt(model, issued, due, h, f);
  const dueDays = due - issued;
  const hazard = model.byCustomer.get(customer) ?? model.hazard;
  const habit = model.habits.get(customer);
  const first = Math.max(1, age + 1);
  const mass = new Map<number, number>();
  const put = (day: number, m: number) => {
    if (m <= 0) return;
    const d = snap(model, habit, issued, Math.max(first, day), first);
    mass.set(d, (mass.get(d) ?? 0) + m);
  };
  let survival = 1;
  let late = 0;
  const z0 = (first - mu) / scale;
  if (z0 < Z_MAX) {
    const b0 = binOf(z0);
    for (let k = b0; k < BINS && survival > 1e-7; k++) {
      const lo = Z_MIN + k * BIN;
      // The first bin counts only for the part still ahead.
      const part = k === b0 && z0 > lo ? Math.max(0, (lo + BIN - z0) / BIN) : 1;
      const m = survival * (1 - (1 - Math.min(0.999999, hazard[k]!)) ** part);
      const from = mu + scale * Math.max(lo, z0);
      const to = mu + scale * (lo + BIN);
      // Spread over the whole days the bin covers.
      const d0 = Math.ceil(from - 0.5);
      const d1 = Math.max(d0, Math.ceil(to - 0.5) - 1);
      for (let d = d0; d <= d1; d++) put(d, m / (d1 - d0 + 1));
      survival -= m;
    }
  }
  // Late: paid after the due date (on the day the payment lands), or not within the clock at all.
  let total = 0;
  for (const [d, m] of mass) {
    total += m;
    if (d > dueDays) late += m;
  }
  if (total < 0.01) {
    // Already later than the clock reaches: the wait of the invoices that were paid that late.
    mass.clear();
    const rate = 1 / model.tailWait;
    let s = 1;
    for (let d = first; d < first + 6 * model.tailWait && s > 1e-4; d++) {
      put(d, s * rate);
      s -= s * rate;
    }
  }
  return { mass, probLate: Math.min(1, Math.max(0, late + survival)), first };
}

/**
 * The payment-day distribution of an invoice still open on `asOf` (age `asOf` − invoice date),
 * conditional on its not being paid by then.
 */
export function predictHazard(model: HazardModel, r: HazardRow, asOf: string, points = 40): HazardPrediction {
  const issued = epochDay(r.invoice_date);
  const age = Math.max(0, epochDay(asOf) - issued);
  const f = features(model.histories.get(r.customer_key), r, epochDay(model.asOf), model.globalLate);
  const { mass, probLate, first } = raw(model, r, f, age);
  const [p10, med, p90] = quantiles(mass, first, [0.1, 0.5, 0.9]) as [number, number, number];
  const own = customerAfter(model.histories.get(r.customer_key), model.pays, age, Math.min(epochDay(asOf), epochDay(model.asOf)) + 1);
  const due = r.due_date ? epochDay(r.due_date) : issued + r.terms_days;
  const h = model.histories.get(r.customer_key);
  const [wh, wm] = model.blend[standsOut(model, issued, due, h, f) >= model.standOut ? 1 : 0];
  const d = shift(model, f);
  const weighed = wh * med + wm * (own.median + d) + (1 - wh - wm) * (own.mean + d);
  // Pulled towards the customer's plain mean wait as far as that mean beat the model on its earlier invoices.
  const wo = model.towardOwn?.get(r.customer_key) ?? 0;
  const blended = Math.max(first, Math.round((1 - wo) * weighed + wo * own.mean));
  const days = snap(model, model.habits.get(r.customer_key), issued, blended, first);
  const dueDays = (r.due_date ? epochDay(r.due_date) : issued + r.terms_days) - issued;
  // Already past its due date and unpaid: late for certain, whatever the calibration.
  const knownDay = Math.min(epochDay(asOf), epochDay(model.asOf));
  const q = 1 / (1 + Math.exp(-dot(model.calibration.w, calibrationInputs(probLate, f, shareBy(model.histories.get(r.customer_key), knownDay), recentShareBy(model.histories.get(r.customer_key), knownDay)))));
  const sh = plainShare(model.histories.get(r.customer_key), knownDay);
  const a = model.calibration.a ?? 1;
  const mixed = sh === null ? q : a * q + (1 - a) * sh;
  const calibrated = age >= dueDays ? 1 : model.calibration.iso ? applyIsotonic(model.calibration.iso, mixed) : mixed;
  const outcomes = quantiles(mass, first, Array.from({ length: points }, (_, i) => (i + 0.5) / points));
  return { days, p10: Math.min(p10, days), p90: Math.max(p90, days), probLate: Math.min(1, Math.max(0, calibrated)), outcomes };
}
