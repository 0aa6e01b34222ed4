import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emit, emitDocument, everything } from '../output.ts';
import { decisionsText, holdsText, orderText } from '../format.ts';
import { requireId } from '../../shared/validate.ts';
import { getOrder } from '../../orders/order.service.ts';
import { creditDecisions, holdReasons, listHolds, rejectOrder, releaseOrder } from '../../credit/credit.service.ts';
import type { Json } from './args.ts';
import { rebuildExposure, verifyExposure } from '../../exposure/exposure.service.ts';
import { progressBar } from '../progress.ts';

/** Credit control (the API's credit.routes.ts): the holds and why, release, reject, decisions. */
export function registerCredit(program: Command): void {
  const credit = program.command('credit').description('credit control: holds, release, reject, decisions');
  credit.command('release <orderId>').requiredOption('--reason <reason>').option('--json').action(async (id: string, o: Json & { reason: string }) => withCore(async (core) => emitDocument(await releaseOrder(core, id, o.reason, cliActor()), o, orderText)));
  credit.command('reject <orderId>').requiredOption('--reason <reason>').option('--json').action(async (id: string, o: Json & { reason: string }) => withCore(async (core) => emitDocument(await rejectOrder(core, id, o.reason, cliActor()), o, orderText)));
  credit
    .command('holds')
    .option('--json')
    .description('orders waiting for a credit controller, each with why it is held')
    .action(async (o: Json) =>
      withCore(async (core) => {
        const holds = await listHolds(core);
        const reasons = await holdReasons(core, holds.map((h) => h.id));
        // As GET /credit/holds answers: each hold with the reasons of the credit check.
        const list = holds.map((h) => ({ ...h, reasons: reasons.get(h.id) ?? [] }));
        emitDocument(everything(list), o, (p) => holdsText(p.items.map((h) => ({ id: h.id, customerId: h.customer_id, customerName: h.customer_name, totalMinor: h.total_minor, currency: h.currency, submittedAt: h.submitted_at, reasons: h.reasons }))));
      }),
    );
  credit
    .command('exposure')
    .option('--verify', "recompute every customer's exposure from history and list the differences (the default)")
    .option('--rebuild', 'rebuild the maintained exposure of the customers that differ')
    .option('--json')
    .description("check the maintained exposure (open receivables, unapplied cash, unbilled orders) against the customers' history")
    .action(async (o: Json & { verify?: boolean; rebuild?: boolean }) =>
      withCore(async (core) => {
        const bar = progressBar();
        const tick = (done: number, total: number) => bar.update('customers', done, total);
        try {
          if (o.rebuild) {
            const rebuilt = await rebuildExposure(core, cliActor(), tick);
            bar.stop();
            emit({ rebuilt }, o, (r) => (r.rebuilt.length ? `rebuilt the exposure of ${r.rebuilt.length} customer(s): ${r.rebuilt.join(', ')}` : "every customer's maintained exposure matches its history: nothing to rebuild"));
            return;
          }
          const result = await verifyExposure(core, tick);
          bar.stop();
          emit(result, o, (r) =>
            r.differences.length === 0
              ? `${r.customers} customer(s): the maintained exposure matches the history`
              : [`${r.differences.length} of ${r.customers} customer(s) differ (cashloop credit exposure --rebuild repairs them):`, ...r.differences.map((d) => `  customer ${d.customerId}: maintained ${JSON.stringify(d.maintained)} recomputed ${JSON.stringify(d.recomputed)}`)].join('\n'),
          );
          if (result.differences.length > 0) process.exitCode = 1;
        } finally {
          bar.stop();
        }
      }),
    );
  credit
    .command('decisions <orderId>')
    .option('--json')
    .action(async (id: string, o: Json) => {
      const orderId = requireId(id, 'orderId');
      return withCore(async (core) => {
        const { currency } = await getOrder(core, orderId);
        // As GET /orders/:id/credit-decisions answers: each decision in the currency of the order.
        emitDocument(everything((await creditDecisions(core, orderId)).map((d) => ({ ...d, currency }))), o, (p) => decisionsText(p.items, currency));
      });
    });
}
