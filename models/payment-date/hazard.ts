import { addDays, daysBetween } from '../../src/shared/dates.ts';
import type { FeatureRow } from './features.ts';

/**
 * Payment timing as time to event: a discrete-time hazard of payment by invoice age, binned
 * by week (week k holds ages 7k … 7k + 6 days from the invoice date; the last bin holds every
 * later age). It learns from every invoice issued by the fit date: a settled one is an event
 * in the week it was paid, one still open is censored at its age — at risk in the weeks it
 * has lived through, never counted as paid or as missing.
 *
 * Per customer: its own weekly hazards (events ÷ exposure, each invoice weighted by recency,
 * the weight halving every `halfLifeDays` of invoice age, so recent behaviour counts more)
 * shrunk towards the hazards of its payment terms (empirical Bayes: `prior` invoices' worth of
 * pooled evidence), so a young customer looks like its peers and an old one like itself. The
 * customer's payment-run habit — paying on a fixed weekday, or on a fixed day of the month —
 * is detected from the dates it paid on, and places the week's probability on those days.
 *
 * For each open invoice this gives a distribution of payment dates conditional on its still
 * being open: the median as the predicted date, the 10 % and 90 % points as the interval, and
 * the probability of paying after the due date. Cost: one pass over the invoices and their
 * weeks to fit (O(invoices × weeks lived)); 78 weeks of days per open invoice to predict.
 */
export const WEEKS = 40;
const HORIZON_WEEKS = 78;

export interface Habit {
  kind: 'weekday' | 'day_of_month' | 'none';
  /** 0 = Monday … 6 = Sunday, or day of the month 1–31. */
  day: number | null;
  /** Share of the customer's (recency-weighted) payments on that day (±1 for a day of the month). */
  share: number;
}

interface Counts {
  events: Float64Array;
  exposure: Float64Array;
}

export interface HazardModel {
  asOf: string;
  /** Pooled weekly hazards by payment terms (days), and over everyone. */
  byTerms: Map<number, number[]>;
  global: number[];
  /** The customer's own weekly hazards, shrunk to its terms' hazards. */
  byCustomer: Map<string, number[]>;
  habits: Map<string, Habit & { weekday: number[]; dayOfMonth: number[] }>;
  trainedOn: number;
}

const newCounts = (): Counts => ({ events: new Float64Array(WEEKS), exposure: new Float64Array(WEEKS) });

function add(c: Counts, age: number, event: boolean, w: number): void {
  const full = Math.min(Math.floor(age / 7), WEEKS - 1);
  for (let k = 0; k < full; k++) c.exposure[k]! += w;
  // The week it was paid in counts whole; a censored invoice's current week counts for the days it lived.
  c.exposure[full]! += event ? w : (w * ((age % 7) + 1)) / 7;
  if (event) c.events[full]! += w;
}

/**
 * Later weeks hold few invoices: their hazards are measured over neighbouring weeks too
 * (±1 week from week 6, ±3 from week 12), so a week nobody happened to pay in is not read
 * as "nobody ever pays at this age".
 */
const halfWidth = (k: number) => (k < 6 ? 0 : k < 12 ? 1 : 3);

function windowed(c: Counts, k: number): { e: number; r: number } {
  let e = 0;
  let r = 0;
  for (let j = Math.max(0, k - halfWidth(k)); j <= Math.min(WEEKS - 1, k + halfWidth(k)); j++) {
    e += c.events[j]!;
    r += c.exposure[j]!;
  }
  return { e, r };
}

function rates(c: Counts, prior: number[], strength: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < WEEKS; k++) {
    const { e, r } = windowed(c, k);
    out.push(Math.min(1, (e + strength * prior[k]!) / (r + strength)));
  }
  return out;
}

/** Pooled hazards, with the weeks nobody lived through carried on from the last week measured. */
function pooled(c: Counts): number[] {
  const out: number[] = [];
  let last = 0.2;
  for (let k = 0; k < WEEKS; k++) {
    const { e, r } = windowed(c, k);
    if (r >= 3) last = Math.min(1, e / r);
    out.push(last);
  }
  return out;
}

const weekdayOf = (date: string) => (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
const dayOfMonth = (date: string) => Number(date.slice(8, 10));

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

/** Fits on every invoice issued by `asOf`, with only what was known then. */
export function fitHazard(rows: FeatureRow[], asOf: string, options: { halfLifeDays?: number; prior?: number } = {}): HazardModel {
  const halfLife = options.halfLifeDays ?? 365;
  const strength = options.prior ?? 4;
  const all = newCounts();
  const terms = new Map<number, Counts>();
  const customers = new Map<string, Counts>();
  const weekdays = new Map<string, { weekday: number[]; dom: number[]; n: number }>();
  let trainedOn = 0;
  for (const r of rows) {
    if (r.invoice_date > asOf) continue;
    const paid = r.settled_date !== null && r.settled_date <= asOf;
    const age = paid ? Math.max(0, daysBetween(r.invoice_date, r.settled_date!)) : daysBetween(r.invoice_date, asOf);
    const w = 0.5 ** (daysBetween(r.invoice_date, asOf) / halfLife);
    add(all, age, paid, w);
    let t = terms.get(r.terms_days);
    if (!t) terms.set(r.terms_days, (t = newCounts()));
    add(t, age, paid, w);
    let c = customers.get(r.customer_key);
    if (!c) customers.set(r.customer_key, (c = newCounts()));
    add(c, age, paid, w);
    if (paid) {
      let h = weekdays.get(r.customer_key);
      if (!h) weekdays.set(r.customer_key, (h = { weekday: new Array<number>(7).fill(0), dom: new Array<number>(31).fill(0), n: 0 }));
      h.weekday[weekdayOf(r.settled_date!)]! += w;
      h.dom[dayOfMonth(r.settled_date!) - 1]! += w;
      h.n++;
    }
    trainedOn++;
  }
  const global = pooled(all);
  const byTerms = new Map([...terms].map(([k, c]) => [k, c.exposure[0]! >= 20 ? pooled(c) : global]));
  const byCustomer = new Map<string, number[]>();
  const termsOf = new Map<string, number>();
  for (const r of rows) if (r.invoice_date <= asOf) termsOf.set(r.customer_key, r.terms_days);
  for (const [key, c] of customers) byCustomer.set(key, rates(c, byTerms.get(termsOf.get(key)!) ?? global, strength));
  const habits = new Map<string, Habit & { weekday: number[]; dayOfMonth: number[] }>();
  for (const [key, h] of weekdays) habits.set(key, { ...detectHabit(h.weekday, h.dom, h.n), weekday: h.weekday, dayOfMonth: h.dom });
  return { asOf, byTerms, global, byCustomer, habits, trainedOn };
}

export interface HazardPrediction {
  /** Days from the invoice date: median, 10 % and 90 % points of the payment day. */
  days: number;
  p10: number;
  p90: number;
  probLate: number;
  /** `points` equally likely payment days (from the invoice date), for the weekly cash spread. */
  outcomes: number[];
}

/** Weight of a calendar day for a customer: its habit's days weigh more, others less. */
function dayWeight(habit: (Habit & { weekday: number[]; dayOfMonth: number[] }) | undefined, date: string): number {
  if (!habit || habit.kind === 'none') return weekdayOf(date) >= 5 ? 0.3 : 1;
  if (habit.kind === 'weekday') return weekdayOf(date) === habit.day ? 6 : weekdayOf(date) >= 5 ? 0.1 : 0.5;
  const d = dayOfMonth(date);
  return Math.abs(d - habit.day!) <= 1 || (habit.day! >= 29 && d >= 28 && addDays(date, 1).slice(8, 10) === '01') ? 6 : 0.5;
}

/**
 * The payment-day distribution of an invoice still open on `asOf` (age `asOf` − invoice date),
 * conditional on its not being paid by then.
 */
export function predictHazard(model: HazardModel, r: Pick<FeatureRow, 'customer_key' | 'invoice_date' | 'terms_days'>, asOf: string, points = 40): HazardPrediction {
  const h = model.byCustomer.get(r.customer_key) ?? model.byTerms.get(r.terms_days) ?? model.global;
  const habit = model.habits.get(r.customer_key);
  const age = Math.max(0, daysBetween(r.invoice_date, asOf));
  const mass: number[] = []; // mass[i]: payment on day age + 1 + i
  let survival = 1;
  const startWeek = Math.floor((age + 1) / 7);
  for (let k = startWeek; k < HORIZON_WEEKS && survival > 1e-6; k++) {
    const hk = Math.max(h[Math.min(k, WEEKS - 1)]!, k >= WEEKS - 1 ? 0.02 : 0);
    const first = Math.max(7 * k, age + 1);
    const days: number[] = [];
    let total = 0;
    let left = 0;
    for (let d = 7 * k; d < 7 * k + 7; d++) {
      const wgt = dayWeight(habit, addDays(r.invoice_date, d));
      total += wgt;
      if (d >= first) {
        days.push(wgt);
        left += wgt;
      }
    }
    // The part of the week's hazard that falls on the days still ahead.
    const inWeek = survival * hk * (left / total);
    for (const wgt of days) mass.push((inWeek * wgt) / left);
    survival -= inWeek;
  }
  // What is left beyond the horizon (never paid, or paid later than two years) is left out:
  // the dates are those of a payment, given that one comes; the probability of paying late
  // counts it as late.
  const sum = mass.reduce((s, x) => s + x, 0) || 1;
  const day0 = age + 1;
  const quantile = (q: number) => {
    let c = 0;
    for (let i = 0; i < mass.length; i++) {
      c += mass[i]! / sum;
      if (c >= q - 1e-12) return day0 + i;
    }
    return day0 + mass.length - 1;
  };
  let late = survival;
  for (let i = 0; i < mass.length; i++) if (day0 + i > r.terms_days) late += mass[i]!;
  return {
    days: quantile(0.5),
    p10: quantile(0.1),
    p90: quantile(0.9),
    probLate: Math.min(1, Math.max(0, late / (sum + survival))),
    outcomes: Array.from({ length: points }, (_, i) => quantile((i + 0.5) / points)),
  };
}
