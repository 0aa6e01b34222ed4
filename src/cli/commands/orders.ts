import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emitDocument, everything, table } from '../output.ts';
import { page, pageQuery, PAGE_LIMIT } from '../../shared/facing.ts';
import { amount, orderText } from '../format.ts';
import { oneOf, requireId } from '../../shared/validate.ts';
import { ORDER_STATUSES } from '../../orders/order.state.ts';
import { cancelOrder, createOrder, getOrder, listOrders, orderHistory } from '../../orders/order.service.ts';
import { submitOrder } from '../../credit/credit.service.ts';
import { getCustomer } from '../../customers/customer.service.ts';
import { parseBusinessDate } from '../../shared/dates.ts';
import { parseAmount } from '../../shared/money.ts';
import { collect, decimalArg, parseLineSpec, type Json } from './args.ts';

/** Orders (the API's orders.routes.ts): create, submit for the credit check, show, list, cancel, history. */
export function registerOrders(program: Command): void {
  const order = program.command('order').description('orders: create, submit, show, list, cancel, history');
  order
    .command('create')
    .requiredOption('--customer <id>')
    .requiredOption('--line <SKU:QTY[:PRICE[:DISCOUNT%]]>', 'an order line; repeat for more', collect, [])
    .option('--date <YYYY-MM-DD>', 'order date (default today)')
    .option('--idempotency-key <key>', 'a retry with the same key returns the first order')
    .option('--external-id <id>')
    .option('--json')
    .action(async (o: Json & { customer: string; line: string[]; date?: string; idempotencyKey?: string; externalId?: string }) => {
      const customerId = requireId(o.customer, 'customer');
      const lines = o.line.map(parseLineSpec);
      lines.forEach((l, i) => l.unitPrice !== null && decimalArg(l.unitPrice, `lines.${i}.unitPrice`));
      if (o.date !== undefined) parseBusinessDate(o.date, 'date');
      return withCore(async (core) => {
        // An unknown customer or a price its currency cannot hold is refused before a change starts.
        const customer = await getCustomer(core, customerId);
        lines.forEach((l, i) => l.unitPrice !== null && parseAmount(l.unitPrice, customer.currency, `lines.${i}.unitPrice`));
        const created = await createOrder(core, { customerId, lines, orderDate: o.date, idempotencyKey: o.idempotencyKey, externalId: o.externalId }, cliActor());
        emitDocument(created, o, (r) => `${r.created ? 'created' : 'already created (same idempotency key)'}: ${orderText(r)}`);
      });
    });
  order.command('submit <id>').description('submit for the credit check: approved (stock reserved) or credit_hold with reasons').option('--json').action(async (id: string, o: Json) => withCore(async (core) => emitDocument(await submitOrder(core, id, cliActor()), o, orderText)));
  order.command('show <id>').option('--json').action(async (id: string, o: Json) => withCore(async (core) => emitDocument(await getOrder(core, id), o, orderText)));
  order
    .command('list')
    .option('--customer <id>')
    .option('--status <status>')
    .option('--after <id>')
    .option('--limit <n>', '', '100')
    .option('--json')
    .action(async (o: Json & { customer?: string; status?: string; after?: string; limit: string }) => {
      // Checked as GET /orders checks ?customerId=, ?status=, ?after= and ?limit=, with the same words.
      const customerId = o.customer ? requireId(o.customer, 'customer') : undefined;
      const status = o.status === undefined ? undefined : oneOf(o.status, 'status', ORDER_STATUSES);
      const { after, limit = PAGE_LIMIT.default } = pageQuery(o);
      return withCore(async (core) => {
        const list = page(await listOrders(core, { customerId, status, afterId: after, limit }), limit);
        emitDocument(list, o, (l) => table(l.items.map((x) => ({ id: x.id, customer: x.customerId, date: x.orderDate, status: x.status, total: amount(x.totalMinor, x.currency), currency: x.currency }))));
      });
    });
  order.command('cancel <id>').requiredOption('--reason <reason>').option('--json').action(async (id: string, o: Json & { reason: string }) => withCore(async (core) => emitDocument(await cancelOrder(core, id, o.reason, cliActor()), o, orderText)));
  order
    .command('history <id>')
    .option('--json')
    .action(async (id: string, o: Json) => withCore(async (core) => emitDocument(everything(await orderHistory(core, id)), o, (h) => table(h.items.map((r) => ({ at: r.at, from: r.from_status ?? '', to: r.to_status, reason: r.reason ?? '', actor: r.actor }))))));
}
