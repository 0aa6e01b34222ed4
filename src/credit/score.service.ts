import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import type { RiskClass } from '../db/schema.ts';
import { invalid } from '../shared/errors.ts';
import { RISK_CLASSES } from '../customers/customer.service.ts';

/** A credit score computed by the models (models/credit-score), handed back to the core. */
export interface CreditScoreInput {
  customerId: number;
  riskClass: RiskClass;
  score: number;
  suggestedLimitMinor: number;
  reasons: string[];
}

/**
 * Writes the models' risk classes onto the customers, in one transaction with one event,
 * so the credit check uses them from the next order on. The suggested limit is recorded in
 * the event for a credit controller to act on; the limit itself is not changed here.
 */
export async function applyCreditScores(core: Core, scores: CreditScoreInput[], actor: string): Promise<{ updated: number }> {
  for (const [i, s] of scores.entries()) {
    if (!(RISK_CLASSES as readonly string[]).includes(s.riskClass)) throw invalid(`scores.${i}.riskClass must be A–E, got ${s.riskClass}`, { field: `scores.${i}.riskClass`, value: s.riskClass, rule: 'one_of' });
    if (!Number.isInteger(s.customerId) || s.customerId < 1) throw invalid(`scores.${i}.customerId must be a customer id`, { field: `scores.${i}.customerId`, value: s.customerId, rule: 'positive' });
  }
  if (scores.length === 0) return { updated: 0 };
  return runChange(core, actor, async ({ trx, at }) => {
    const updated = [];
    for (const s of scores) {
      const row = await trx.updateTable('customers').set({ risk_class: s.riskClass, updated_at: at }).where('id', '=', s.customerId).returningAll().executeTakeFirst();
      if (row) updated.push(row);
    }
    return {
      result: { updated: updated.length },
      events: [{ type: 'customer.credit_scored', aggregate: 'customer', id: 'batch', after: { customers: updated, credit_scores: scores } }],
    };
  });
}
