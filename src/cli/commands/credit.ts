import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emitDocument } from '../output.ts';
import { decisionsText, holdsText, orderText } from '../format.ts';
import { requireId } from '../../shared/validate.ts';
import { creditHolds, orderCreditDecisions, rejectOrder, releaseOrder } from '../../credit/credit.service.ts';
import { pageQuery } from '../../shared/facing.ts';
import type { Json } from './args.ts';

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
