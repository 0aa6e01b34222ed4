import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import type { RiskClass } from '../db/schema.ts';
import { invalid } from '../shared/errors.ts';
import { parseBusinessDate } from '../shared/dates.ts';
import { RISK_CLASSES } from '../customers/customer.service.ts';

/** A credit score computed by the models (models/credit-score), handed back to the core. */
export interface CreditScoreInput {
  customerId: number;
  riskClass: RiskClass;
  score: number;
  suggestedLimitMinor: number;
  reasons: string[];
}

/** One customer's score as of a date, as it was applied to the core. */
export interface ScoreHistoryEntry {
  asOf: string;
  score: number;
  riskClass: RiskClass;
  reasons: string[];
  suggestedLimitMinor: number;
  actor: string;
  recordedAt: string;
}

/**
 * Writes the models' risk classes onto the customers, in one transaction with one event,
 * so the credit check uses them from the next order on, and keeps each customer's score of
 * that as-of date (score, class, reasons, suggested limit) in the score history — applying
 * the same date again replaces that date's row. `asOf` is the date the scores were computed
 * for (default: today). The suggested limit is recorded for a credit controller to act on;
 * the limit itself is not changed here.
 */
export async function applyCreditScores(core: Core, scores: CreditScoreInput[], actor: string, options: { asOf?: string } = {}): Promise<{ updated: number }> {
  if (options.asOf !== undefined) parseBusinessDate(options.asOf, 'asOf');
  for (const [i, s] of scores.entries()) {
    if (!(RISK_CLASSES as readonly string[]).includes(s.riskClass)) throw invalid(`scores.${i}.riskClass must be A–E, got ${s.riskClass}`, { field: `scores.${i}.riskClass`, value: s.riskClass, rule: 'one_of' });
    if (!Number.isInteger(s.customerId) || s.customerId < 1) throw invalid(`scores.${i}.customerId must be a customer id`, { field: `scores.${i}.customerId`, value: s.customerId, rule: 'positive' });
    if (!Number.isInteger(s.score) || s.score < 0 || s.score > 100) throw invalid(`scores.${i}.score must be a whole number of points from 0 to 100, got ${s.score}`, { field: `scores.${i}.score`, value: s.score, rule: 'range' });
    if (!Number.isSafeInteger(s.suggestedLimitMinor) || s.suggestedLimitMinor < 0) throw invalid(`scores.${i}.suggestedLimitMinor must be a whole, non-negative amount in minor units, got ${s.suggestedLimitMinor}`, { field: `scores.${i}.suggestedLimitMinor`, value: s.suggestedLimitMinor, rule: 'non_negative_integer' });
    if (!Array.isArray(s.reasons) || s.reasons.some((r) => typeof r !== 'string')) throw invalid(`scores.${i}.reasons must be a list of sentences`, { field: `scores.${i}.reasons`, value: s.reasons, rule: 'string_list' });
  }
  if (scores.length === 0) return { updated: 0 };
  return runChange(core, actor, async ({ trx, at, today }) => {
    const asOf = options.asOf ?? today;
    const updated = [];
    for (const s of scores) {
      const row = await trx.updateTable('customers').set({ risk_class: s.riskClass, updated_at: at }).where('id', '=', s.customerId).returningAll().executeTakeFirst();
      if (!row) continue;
      updated.push(row);
      const entry = { score: s.score, risk_class: s.riskClass, reasons: JSON.stringify(s.reasons), suggested_limit_minor: s.suggestedLimitMinor, actor, recorded_at: at };
      await trx.insertInto('credit_score_history').values({ customer_id: s.customerId, as_of: asOf, ...entry })
        .onConflict((oc) => oc.columns(['customer_id', 'as_of']).doUpdateSet(entry)).execute();
    }
    return {
      result: { updated: updated.length },
      events: [{ type: 'customer.credit_scored', aggregate: 'customer', id: 'batch', after: { as_of: asOf, customers: updated, credit_scores: scores } }],
    };
  });
}

/** A customer's score history, newest as-of date first (at most `limit` dates). */
export async function scoreHistory(core: Core, customerId: number, limit = 24): Promise<ScoreHistoryEntry[]> {
  const rows = await core.db.kysely.selectFrom('credit_score_history').selectAll().where('customer_id', '=', customerId).orderBy('as_of', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    asOf: r.as_of,
    score: Number(r.score),
    riskClass: r.risk_class,
    reasons: JSON.parse(r.reasons) as string[],
    suggestedLimitMinor: Number(r.suggested_limit_minor),
    actor: r.actor,
    recordedAt: r.recorded_at,
  }));
}
