import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emitDocument, everything } from '../output.ts';
import { decisionsText, holdsText, orderText } from '../format.ts';
import { requireId } from '../../shared/validate.ts';
import { getOrder } from '../../orders/order.service.ts';
import { creditDecisions, creditHolds, rejectOrder, releaseOrder } from '../../credit/credit.service.ts';
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
