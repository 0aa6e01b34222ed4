import { addDays, daysBetween, monthEnd } from '../../src/shared/dates.ts';
import type { FeatureRow } from './features.ts';
import { fitHazard, predictHazard } from './hazard.ts';
import { fitPaymentDate, predictPaymentDate } from './model.ts';

/**
 * The payment-date candidates replayed on the invoices open at past month-ends, as the
 * forecast step uses them: at each origin M, each model is fitted with only what was known on
 * M and predicts every invoice open on M (told, as every baseline is, that it is still open)
 * that has been paid since. Nothing of a later date is read at an origin, and nothing is tuned
 * on the origin being scored.
 *
 * Payment date (MAE in days): the hazard model; the linear model of model.ts (the previous
 * forecast) conditioned on the invoice's age; the due date (or the next day when already
 * past); the customer's own mean days to pay among its past payments made later than this
 * invoice's age (everyone's when it has none). Late probability, on the invoices not yet due
 * at M whose outcome is known (paid, or still open after the due date): Brier score of each
 * model and of the customer's share of invoices paid late so far, the skill 1 − Brier ÷
 * Brier(share), and a reliability table of the published model (predicted against observed
 * in ten bands).
 */
export const HAZARD_MODEL = 'payment-date/hazard@2';
export const LINEAR_MODEL = 'payment-date/linear-history@1';

export interface ReplayScore {
  origin: string;
  customer: string;
  actual: number;
  age: number;
  terms: number;
  hazard: number;
  linear: number;
  due: number;
  customerMean: number;
  inHazard: boolean;
}

export interface LateScore {
  origin: string;
  customer: string;
  late: boolean;
  hazard: number;
  linear: number;
  share: number;
}

export interface Replay {
  origins: string[];
  dates: ReplayScore[];
  late: LateScore[];
}

/** The last `count` month-ends before `asOf` with at least 28 days behind them. */
export function replayOrigins(asOf: string, count: number): string[] {
  const out: string[] = [];
  let m = monthEnd(addDays(asOf.slice(0, 8) + '01', -1));
  while (out.length < count) {
    if (daysBetween(m, asOf) >= 28) out.unshift(m);
    m = monthEnd(addDays(m.slice(0, 8) + '01', -1));
  }
  return out;
}

/**
 * Settled after its due date: paid after it, or settled without a payment (written off) after
 * it — an invoice written off was not paid on time.
 */
function settledLate(r: FeatureRow): boolean {
  return r.days_to_pay !== null ? addDays(r.invoice_date, r.days_to_pay) > r.due_date : r.settled_date! > r.due_date;
}

export function replayPaymentDates(history: FeatureRow[], asOf: string, options: { origins?: number; minSettled?: number } = {}): Replay {
  const origins: string[] = [];
  const dates: ReplayScore[] = [];
  const late: LateScore[] = [];
  for (const m of replayOrigins(asOf, options.origins ?? 6)) {
    const known = history.filter((r) => r.invoice_date <= m);
    const settled = known.filter((r) => r.settled_date !== null && r.settled_date <= m);
    if (settled.length < (options.minSettled ?? 20)) continue;
    origins.push(m);
    const hazard = fitHazard(known, m);
    const linear = fitPaymentDate(settled);
    const paidDays = new Map<string, number[]>();
    const lateShare = new Map<string, { late: number; n: number }>();
    for (const r of settled) {
      const s = lateShare.get(r.customer_key) ?? { late: 0, n: 0 };
      s.late += settledLate(r) ? 1 : 0;
      s.n++;
      lateShare.set(r.customer_key, s);
      // A write-off is not a payment: the customer's mean wait is over the invoices it paid.
      if (r.days_to_pay !== null) (paidDays.get(r.customer_key) ?? paidDays.set(r.customer_key, []).get(r.customer_key)!).push(r.days_to_pay);
    }
    const everyone = settled.filter((r) => r.days_to_pay !== null).map((r) => r.days_to_pay!);
    const globalLate = settled.filter(settledLate).length / settled.length;
    for (const r of known) {
      if (r.settled_date !== null && r.settled_date <= m) continue;
      const age = daysBetween(r.invoice_date, m);
      const h = predictHazard(hazard, r, m);
      const l = predictPaymentDate(linear, r, age);
      const outcomeKnown = r.settled_date !== null && r.settled_date <= asOf;
      // Scored on the payment date only when it was paid since the origin: an invoice written
      // off (or credited) is no payment date for any candidate or baseline.
      if (outcomeKnown && r.days_to_pay !== null && r.days_to_pay > age) {
        const actual = r.days_to_pay;
        const later = (paidDays.get(r.customer_key) ?? []).filter((d) => d > age);
        const pool = later.length > 0 ? later : everyone.filter((d) => d > age);
        const customerMean = pool.length > 0 ? pool.reduce((s, x) => s + x, 0) / pool.length : age + 7;
        dates.push({
          origin: m, customer: r.customer_key, actual, age, terms: r.terms_days, hazard: h.days, linear: Math.max(age + 1, Math.round(l.days)),
          due: Math.max(age + 1, r.terms_days), customerMean, inHazard: h.p10 <= actual && actual <= h.p90,
        });
      }
      if (r.due_date > m && (outcomeKnown || asOf > r.due_date)) {
        const s = lateShare.get(r.customer_key);
        late.push({ origin: m, customer: r.customer_key, late: outcomeKnown ? settledLate(r) : true, hazard: h.probLate, linear: l.probLate, share: s ? s.late / s.n : globalLate });
      }
    }
  }
  return { origins, dates, late };
}

export interface ReplayMetric {
  metric: string;
  value: number;
  baseline: string;
  baselineValue: number;
  n: number;
}

const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((s, x) => s + x, 0) / xs.length);

/** MAE, Brier, skill and coverage of `model` beside its baselines. */
export function replayMetrics(replay: Replay, model: 'hazard' | 'linear'): ReplayMetric[] {
  const d = replay.dates;
  const mae = (f: (s: ReplayScore) => number) => mean(d.map((s) => Math.abs(f(s) - s.actual)));
  const value = mae((s) => s[model]);
  const brier = (f: (s: LateScore) => number) => mean(replay.late.map((s) => (f(s) - (s.late ? 1 : 0)) ** 2));
  const b = brier((s) => s[model]);
  const other = model === 'hazard' ? 'linear' : 'hazard';
  const out: ReplayMetric[] = [
    { metric: 'mae_days_open', value, baseline: 'customer_mean', baselineValue: mae((s) => s.customerMean), n: d.length },
    { metric: 'mae_days_open', value, baseline: 'due_date', baselineValue: mae((s) => s.due), n: d.length },
    { metric: 'mae_days_open', value, baseline: other === 'linear' ? LINEAR_MODEL : HAZARD_MODEL, baselineValue: mae((s) => s[other]), n: d.length },
    { metric: 'brier_late', value: b, baseline: 'customer_late_share', baselineValue: brier((s) => s.share), n: replay.late.length },
    { metric: 'brier_late', value: b, baseline: other === 'linear' ? LINEAR_MODEL : HAZARD_MODEL, baselineValue: brier((s) => s[other]), n: replay.late.length },
    { metric: 'brier_skill', value: 1 - b / brier((s) => s.share), baseline: 'customer_late_share', baselineValue: 0, n: replay.late.length },
  ];
  if (model === 'hazard') out.push({ metric: 'interval_80_coverage_open', value: mean(d.map((s) => (s.inHazard ? 1 : 0))), baseline: 'nominal', baselineValue: 0.8, n: d.length });
  return out;
}

/** Reliability of a model's late probabilities: per tenth of predicted probability, mean predicted beside the share that was late. */
export function reliabilityTable(replay: Replay, model: 'hazard' | 'linear'): { band: string; predicted: number; observed: number; n: number }[] {
  const out = [];
  for (let b = 0; b < 10; b++) {
    const inBand = replay.late.filter((s) => Math.min(9, Math.floor(s[model] * 10)) === b);
    if (inBand.length === 0) continue;
    out.push({ band: `${b / 10}-${(b + 1) / 10}`, predicted: mean(inBand.map((s) => s[model])), observed: mean(inBand.map((s) => (s.late ? 1 : 0))), n: inBand.length });
  }
  return out;
}

/**
 * The candidate to publish: the one with the lower replayed MAE on open invoices, the origins
 * being scored all strictly before the forecast date. The hazard model when there is no replay.
 */
export function chooseModel(replay: Replay): 'hazard' | 'linear' {
  if (replay.dates.length === 0) return 'hazard';
  const mae = (k: 'hazard' | 'linear') => mean(replay.dates.map((s) => Math.abs(s[k] - s.actual)));
  return mae('linear') < mae('hazard') ? 'linear' : 'hazard';
}

/** The candidate whose late probabilities had the lower replayed Brier score (the hazard model when there is no replay). */
export function chooseLate(replay: Replay): 'hazard' | 'linear' {
  if (replay.late.length === 0) return 'hazard';
  const brier = (k: 'hazard' | 'linear') => mean(replay.late.map((s) => (s[k] - (s.late ? 1 : 0)) ** 2));
  return brier('linear') < brier('hazard') ? 'linear' : 'hazard';
}
