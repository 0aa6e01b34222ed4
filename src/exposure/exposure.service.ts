import type { Core } from '../core.ts';
import { lockCustomer, runChange } from '../core.ts';
import { customerIds, exposureFromHistory, maintainedExposure, rebuildCustomerExposure, type ExposureFigures } from './exposure.repository.ts';

/** A customer whose maintained exposure differs from the one recomputed from history. */
export interface ExposureDifference {
  customerId: number;
  maintained: ExposureFigures;
  recomputed: ExposureFigures;
}

const FIELDS = ['openArMinor', 'unappliedCashMinor', 'unbilledMinor', 'overdueMinor', 'oldestDaysOverdue'] as const;

/**
 * Recomputes every customer's exposure from the whole history and answers the customers
 * whose maintained figures differ (none when the maintenance is sound). Read only.
 * `progress` is told every hundred customers.
 */
export async function verifyExposure(core: Core, progress?: (done: number, total: number) => void): Promise<{ customers: number; differences: ExposureDifference[] }> {
  const db = core.db.kysely;
  const today = core.clock.now().toISOString().slice(0, 10);
  const ids = await customerIds(db);
  const differences: ExposureDifference[] = [];
  for (const [k, id] of ids.entries()) {
    const maintained = await maintainedExposure(db, id, today);
    const recomputed = await exposureFromHistory(db, id, today);
    if (FIELDS.some((f) => maintained[f] !== recomputed[f])) differences.push({ customerId: id, maintained, recomputed });
    if ((k + 1) % 100 === 0 || k + 1 === ids.length) progress?.(k + 1, ids.length);
  }
  return { customers: ids.length, differences };
}

/**
 * Rebuilds the maintained exposure of every customer whose figures differ from history
 * (after a restore from an older backup, a hand edit of the rows), each under the customer's
 * lock in one change with its event. Answers the customers rebuilt.
 */
export async function rebuildExposure(core: Core, actor: string, progress?: (done: number, total: number) => void): Promise<number[]> {
  const { differences } = await verifyExposure(core, progress);
  const rebuilt: number[] = [];
  for (const d of differences) {
    await runChange(core, actor, async (scope) => {
      await lockCustomer(scope, d.customerId);
      await rebuildCustomerExposure(scope.trx, d.customerId);
      const row = await scope.trx.selectFrom('customer_exposure').selectAll().where('customer_id', '=', d.customerId).executeTakeFirstOrThrow();
      return { result: undefined, events: [{ type: 'customer.exposure_rebuilt', aggregate: 'customer', id: d.customerId, after: { customer_exposure: [row] } }] };
    });
    rebuilt.push(d.customerId);
  }
  return rebuilt;
}
