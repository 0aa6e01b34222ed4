import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emit, emitDocument } from '../output.ts';
import { decisionsText, holdsText, orderText } from '../format.ts';
import { requireId } from '../../shared/validate.ts';
import { creditHolds, orderCreditDecisions, rejectOrder, releaseOrder } from '../../credit/credit.service.ts';
import { pageQuery } from '../../shared/facing.ts';
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
    .option('--after <n>', 'the `next` of the previous page')
    .option('--limit <n>', 'how many holds, 1 to 500 (default 100)')
    .option('--json')
    .description('orders waiting for a credit controller, each with why it is held')
    .action(async (o: Json & { after?: string; limit?: string }) => {
      const paging = pageQuery(o);
      return withCore(async (core) =>
        emitDocument(await creditHolds(core, paging), o, (p) => holdsText(p.items.map((h) => ({ id: h.id, customerId: h.customer_id, customerName: h.customer_name, totalMinor: h.total_minor, currency: h.currency, submittedAt: h.submitted_at, reasons: h.reasons })))),
      );
    });
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
    .description("an order's credit decisions with their inputs, in the order's currency")
    .option('--after <n>', 'the `next` of the previous page')
    .option('--limit <n>', 'how many decisions, 1 to 500 (default 100)')
    .option('--json')
    .action(async (id: string, o: Json & { after?: string; limit?: string }) => {
      const orderId = requireId(id, 'orderId');
      const paging = pageQuery(o);
      return withCore(async (core) => emitDocument(await orderCreditDecisions(core, orderId, paging), o, (p) => decisionsText(p.items, p.items[0]?.currency ?? '')));
    });
}
