import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emit } from '../output.ts';
import { decisionsText, holdsText, orderText } from '../format.ts';
import { requireId } from '../../shared/validate.ts';
import { getOrder } from '../../orders/order.service.ts';
import { amount as formatAmount } from '../format.ts';
import { creditDecisions, holdReasons, listHolds, rejectOrder, releaseOrder } from '../../credit/credit.service.ts';
import type { Json } from './args.ts';

/** Credit control (the API's credit.routes.ts): the holds and why, release, reject, decisions. */
export function registerCredit(program: Command): void {
  const credit = program.command('credit').description('credit control: holds, release, reject, decisions');
  credit.command('release <orderId>').requiredOption('--reason <reason>').option('--json').action(async (id: string, o: Json & { reason: string }) => withCore(async (core) => emit(await releaseOrder(core, id, o.reason, cliActor()), o, orderText)));
  credit.command('reject <orderId>').requiredOption('--reason <reason>').option('--json').action(async (id: string, o: Json & { reason: string }) => withCore(async (core) => emit(await rejectOrder(core, id, o.reason, cliActor()), o, orderText)));
  credit
    .command('holds')
    .option('--json')
    .description('orders waiting for a credit controller, each with why it is held')
    .action(async (o: Json) =>
      withCore(async (core) => {
        const holds = await listHolds(core);
        const reasons = await holdReasons(core, holds.map((h) => h.id));
        const list = holds.map((h) => ({ id: h.id, customerId: h.customer_id, customerName: h.customer_name, totalMinor: h.total_minor, total: formatAmount(h.total_minor, h.currency), currency: h.currency, submittedAt: h.submitted_at, reasons: reasons.get(h.id) ?? [] }));
        emit(list, o, holdsText);
      }),
    );
  credit
    .command('decisions <orderId>')
    .option('--json')
    .action(async (id: string, o: Json) => {
      const orderId = requireId(id, 'orderId');
      return withCore(async (core) => {
        const { currency } = await getOrder(core, orderId);
        emit(await creditDecisions(core, orderId), o, (l) => decisionsText(l, currency));
      });
    });
}
