import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emit, table } from '../output.ts';
import { customerText, invoiceText, invoicesText, orderText, paymentText, productText, shipmentText, accountStatementText } from '../format.ts';
import { invalid } from '../../shared/errors.ts';
import { formatAmount } from '../../shared/money.ts';
import { requireId } from '../../shared/validate.ts';
import { createCustomer, getCustomer, listCustomers, setCustomerStatus, updateCustomer } from '../../customers/customer.service.ts';
import { createProduct, getProduct, listProducts } from '../../catalog/product.service.ts';
import { adjustStock, receiveStock } from '../../catalog/inventory.service.ts';
import { cancelOrder, createOrder, getOrder, listOrders, orderHistory } from '../../orders/order.service.ts';
import { creditDecisions, listHolds, rejectOrder, releaseOrder, submitOrder } from '../../credit/credit.service.ts';
import { createShipment, deliverShipment, getShipment, updateShipmentStatus } from '../../shipping/shipment.service.ts';
import { createCreditNote, getInvoice, listInvoices, writeOffInvoice } from '../../invoicing/invoice.service.ts';
import { applyPaymentToInvoice, getPayment, listPayments, recordPayment, reversePayment } from '../../payments/payment.service.ts';
import { accountStatement } from '../../payments/account-statement.service.ts';
import { getSettings, setSetting } from '../../settings/settings.service.ts';
import type { OrderStatus } from '../../db/schema.ts';

type Json = { json?: boolean };
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `SKU:QTY[:PRICE[:DISCOUNT%]]` → an order line. */
export function parseLineSpec(spec: string, i: number) {
  const [sku, quantity, unitPrice, discountPercent] = spec.split(':');
  if (!sku || !quantity) throw invalid(`--line ${spec} must be SKU:QTY[:PRICE[:DISCOUNT%]]`, { field: `lines.${i}`, value: spec, rule: 'line_format' });
  return { sku, quantity, unitPrice: unitPrice || null, discountPercent: discountPercent || null };
}

/** The core's commands: one group per business area, as in the README's walk-through. */
export function registerCore(program: Command): void {
  const customer = program.command('customer').description('customers: create, show, list, update, block');
  customer
    .command('create')
    .requiredOption('--name <name>')
    .option('--credit-limit <amount>', 'credit limit in the customer currency', '0')
    .option('--terms <days>', 'payment terms in days', '30')
    .option('--currency <code>')
    .option('--external-id <id>')
    .option('--country <country>')
    .option('--segment <segment>')
    .option('--email <email>')
    .option('--iban <iban>')
    .option('--sales-rep <name>')
    .option('--early-discount <percent>', 'early-payment discount percent')
    .option('--early-discount-days <days>')
    .option('--json')
    .action(async (o: Json & Record<string, string | undefined>) =>
      withCore(async (core) => {
        const c = await createCustomer(core, { name: o.name!, creditLimit: o.creditLimit, paymentTermsDays: o.terms, currency: o.currency, externalId: o.externalId, country: o.country, segment: o.segment, email: o.email, iban: o.iban, salesRep: o.salesRep, earlyDiscountPercent: o.earlyDiscount, earlyDiscountDays: o.earlyDiscountDays }, cliActor());
        emit(c, o, (r) => `${r.created ? 'created' : 'exists'}: ${customerText(r)}`);
      }),
    );
  customer.command('show <id>').option('--json').action(async (id: string, o: Json) => withCore(async (core) => emit(await getCustomer(core, id), o, customerText)));
  customer
    .command('list')
    .option('--status <status>')
    .option('--after <id>')
    .option('--limit <n>', '', '100')
    .option('--json')
    .action(async (o: Json & { status?: 'active' | 'blocked'; after?: string; limit: string }) =>
      withCore(async (core) => {
        const list = await listCustomers(core, { status: o.status, afterId: o.after ? Number(o.after) : undefined, limit: Number(o.limit) });
        emit(list, o, (l) => table(l.map((c) => ({ id: c.id, name: c.name, status: c.status, currency: c.currency, terms: c.paymentTermsDays, limit: c.creditLimit, risk: c.riskClass ?? '' }))));
      }),
    );
  customer
    .command('update <id>')
    .option('--name <name>')
    .option('--credit-limit <amount>')
    .option('--terms <days>')
    .option('--risk-class <class>')
    .option('--email <email>')
    .option('--iban <iban>')
    .option('--segment <segment>')
    .option('--sales-rep <name>')
    .option('--json')
    .action(async (id: string, o: Json & Record<string, string | undefined>) =>
      withCore(async (core) => {
        const c = await updateCustomer(core, id, { name: o.name, creditLimit: o.creditLimit, paymentTermsDays: o.terms, riskClass: o.riskClass as never, email: o.email, iban: o.iban, segment: o.segment, salesRep: o.salesRep }, cliActor());
        emit(c, o, customerText);
      }),
    );
  for (const [name, status] of [['block', 'blocked'], ['activate', 'active']] as const) {
    customer
      .command(`${name} <id>`)
      .requiredOption('--reason <reason>')
      .option('--json')
      .action(async (id: string, o: Json & { reason: string }) => withCore(async (core) => emit(await setCustomerStatus(core, id, status, o.reason, cliActor()), o, customerText)));
  }

  const product = program.command('product').description('products: create, show, list');
  product
    .command('create')
    .requiredOption('--sku <sku>')
    .requiredOption('--name <name>')
    .requiredOption('--price <amount>')
    .option('--tax-rate <percent>', 'tax rate in percent', '0')
    .option('--category <category>')
    .option('--cost <amount>', 'unit cost', '0')
    .option('--currency <code>')
    .option('--json')
    .action(async (o: Json & Record<string, string>) =>
      withCore(async (core) => emit(await createProduct(core, { sku: o.sku!, name: o.name!, price: o.price!, taxRate: o.taxRate, category: o.category, unitCost: o.cost, currency: o.currency }, cliActor()), o, (p) => `created: ${productText(p)}`)),
    );
  product.command('show <sku>').option('--json').action(async (sku: string, o: Json) => withCore(async (core) => emit(await getProduct(core, sku), o, productText)));
  product
    .command('list')
    .option('--category <category>')
    .option('--json')
    .action(async (o: Json & { category?: string }) =>
      withCore(async (core) => emit(await listProducts(core, { category: o.category, limit: 1000 }), o, (l) => table(l.map((p) => ({ sku: p.sku, name: p.name, category: p.category, price: p.listPrice, currency: p.currency, on_hand: p.onHand, reserved: p.reserved, available: p.available }))))),
    );

  const stock = program.command('stock').description('stock: receive, adjust, show');
  stock
    .command('receive')
    .requiredOption('--sku <sku>')
    .requiredOption('--qty <quantity>')
    .option('--reference <text>')
    .option('--json')
    .action(async (o: Json & { sku: string; qty: string; reference?: string }) => withCore(async (core) => emit(await receiveStock(core, { sku: o.sku, quantity: o.qty, reference: o.reference }, cliActor()), o, productText)));
  stock
    .command('adjust')
    .requiredOption('--sku <sku>')
    .requiredOption('--delta <quantity>', 'signed change, e.g. -3')
    .requiredOption('--reason <reason>')
    .option('--json')
    .action(async (o: Json & { sku: string; delta: string; reason: string }) => withCore(async (core) => emit(await adjustStock(core, { sku: o.sku, delta: o.delta, reason: o.reason }, cliActor()), o, productText)));
  stock.command('show <sku>').option('--json').action(async (sku: string, o: Json) => withCore(async (core) => emit(await getProduct(core, sku), o, productText)));

  const order = program.command('order').description('orders: create, submit, show, list, cancel, history');
  order
    .command('create')
    .requiredOption('--customer <id>')
    .requiredOption('--line <SKU:QTY[:PRICE[:DISCOUNT%]]>', 'an order line; repeat for more', collect, [])
    .option('--date <YYYY-MM-DD>', 'order date (default today)')
    .option('--idempotency-key <key>', 'a retry with the same key returns the first order')
    .option('--external-id <id>')
    .option('--json')
    .action(async (o: Json & { customer: string; line: string[]; date?: string; idempotencyKey?: string; externalId?: string }) =>
      withCore(async (core) => {
        const created = await createOrder(core, { customerId: o.customer, lines: o.line.map(parseLineSpec), orderDate: o.date, idempotencyKey: o.idempotencyKey, externalId: o.externalId }, cliActor());
        emit(created, o, (r) => `${r.created ? 'created' : 'already created (same idempotency key)'}: ${orderText(r)}`);
      }),
    );
  order.command('submit <id>').description('submit for the credit check: approved (stock reserved) or credit_hold with reasons').option('--json').action(async (id: string, o: Json) => withCore(async (core) => emit(await submitOrder(core, id, cliActor()), o, orderText)));
  order.command('show <id>').option('--json').action(async (id: string, o: Json) => withCore(async (core) => emit(await getOrder(core, id), o, orderText)));
  order
    .command('list')
    .option('--customer <id>')
    .option('--status <status>')
    .option('--after <id>')
    .option('--limit <n>', '', '100')
    .option('--json')
    .action(async (o: Json & { customer?: string; status?: OrderStatus; after?: string; limit: string }) =>
      withCore(async (core) => {
        const list = await listOrders(core, { customerId: o.customer ? requireId(o.customer, 'customer') : undefined, status: o.status, afterId: o.after ? Number(o.after) : undefined, limit: Number(o.limit) });
        emit(list, o, (l) => table(l.map((x) => ({ id: x.id, customer: x.customerId, date: x.orderDate, status: x.status, total: x.total, currency: x.currency }))));
      }),
    );
  order.command('cancel <id>').requiredOption('--reason <reason>').option('--json').action(async (id: string, o: Json & { reason: string }) => withCore(async (core) => emit(await cancelOrder(core, id, o.reason, cliActor()), o, orderText)));
  order
    .command('history <id>')
    .option('--json')
    .action(async (id: string, o: Json) => withCore(async (core) => emit(await orderHistory(core, id), o, (h) => table(h.map((r) => ({ at: r.at, from: r.from_status ?? '', to: r.to_status, reason: r.reason ?? '', actor: r.actor }))))));

  const credit = program.command('credit').description('credit control: holds, release, reject, decisions');
  credit.command('release <orderId>').requiredOption('--reason <reason>').option('--json').action(async (id: string, o: Json & { reason: string }) => withCore(async (core) => emit(await releaseOrder(core, id, o.reason, cliActor()), o, orderText)));
  credit.command('reject <orderId>').requiredOption('--reason <reason>').option('--json').action(async (id: string, o: Json & { reason: string }) => withCore(async (core) => emit(await rejectOrder(core, id, o.reason, cliActor()), o, orderText)));
  credit
    .command('holds')
    .option('--json')
    .action(async (o: Json) => withCore(async (core) => emit(await listHolds(core), o, (l) => table(l.map((h) => ({ order: h.id, customer: `${h.customer_id} ${h.customer_name}`, total: formatAmount(h.total_minor, h.currency), currency: h.currency, submitted: h.submitted_at }))))));
  credit
    .command('decisions <orderId>')
    .option('--json')
    .action(async (id: string, o: Json) =>
      withCore(async (core) => emit(await creditDecisions(core, id), o, (l) => l.map((d) => `${d.decidedAt} ${d.decision}${d.automatic ? ' (automatic)' : ''} by ${d.decidedBy}: exposure ${d.exposureMinor} vs limit ${d.creditLimitMinor}; ${d.reasons.join('; ') || 'all rules passed'}`).join('\n'))),
    );

  const shipment = program.command('shipment').description('shipping: create, status, deliver, show');
  shipment
    .command('create')
    .requiredOption('--order <id>')
    .option('--line <SKU:QTY>', 'what to ship; default everything reserved', collect, [])
    .requiredOption('--carrier <carrier>')
    .requiredOption('--tracking <number>')
    .option('--json')
    .action(async (o: Json & { order: string; line: string[]; carrier: string; tracking: string }) =>
      withCore(async (core) => {
        const lines = o.line.length ? o.line.map((spec, i) => { const l = parseLineSpec(spec, i); return { sku: l.sku, quantity: l.quantity }; }) : undefined;
        emit(await createShipment(core, { orderId: o.order, lines, carrier: o.carrier, trackingNumber: o.tracking }, cliActor()), o, shipmentText);
      }),
    );
  shipment.command('deliver <id>').requiredOption('--signed-by <name>').option('--json').action(async (id: string, o: Json & { signedBy: string }) => withCore(async (core) => emit(await deliverShipment(core, id, { signedBy: o.signedBy }, cliActor()), o, shipmentText)));
  shipment
    .command('status <id>')
    .requiredOption('--status <status>', 'in_transit or failed')
    .option('--note <text>')
    .option('--json')
    .action(async (id: string, o: Json & { status: string; note?: string }) => withCore(async (core) => emit(await updateShipmentStatus(core, id, o.status, o.note ?? null, cliActor()), o, shipmentText)));
  shipment.command('show <id>').option('--json').action(async (id: string, o: Json) => withCore(async (core) => emit(await getShipment(core, id), o, shipmentText)));

  const invoice = program.command('invoice').description('invoices: list, show, write-off');
  invoice
    .command('list')
    .option('--customer <id>')
    .option('--open', 'only invoices with an open balance')
    .option('--json')
    .action(async (o: Json & { customer?: string; open?: boolean }) => withCore(async (core) => emit(await listInvoices(core, { customerId: o.customer ? requireId(o.customer, 'customer') : undefined, openOnly: o.open }), o, invoicesText)));
  invoice.command('show <number>').option('--json').action(async (n: string, o: Json) => withCore(async (core) => emit(await getInvoice(core, n), o, invoiceText)));
  invoice
    .command('write-off <number>')
    .description('write off a small remainder (within the tolerance), or with --bad-debt an uncollectable balance')
    .requiredOption('--reason <reason>')
    .option('--bad-debt', 'the customer will not pay: write off any remainder')
    .option('--json')
    .action(async (n: string, o: Json & { reason: string; badDebt?: boolean }) =>
      withCore(async (core) => emit(await writeOffInvoice(core, n, o.reason, cliActor(), undefined, { badDebt: o.badDebt }), o, (r) => `invoice ${r.number}: wrote off ${r.writtenOff} (${r.kind})`)),
    );

  program
    .command('credit-note')
    .description('credit notes against an invoice')
    .command('create')
    .requiredOption('--invoice <number>')
    .requiredOption('--amount <amount>')
    .requiredOption('--reason <reason>')
    .option('--kind <kind>', 'return | price_correction | dispute | other', 'other')
    .option('--json')
    .action(async (o: Json & { invoice: string; amount: string; reason: string; kind: 'return' }) =>
      withCore(async (core) => emit(await createCreditNote(core, { invoice: o.invoice, amount: o.amount, reason: o.reason, kind: o.kind }, cliActor()), o, (r) => `credit note ${r.number}: ${r.amount} on ${r.invoice.number}; balance now ${r.invoice.balance}`)),
    );

  const payment = program.command('payment').description('payments: record, reverse, apply, show, list');
  payment
    .command('record')
    .requiredOption('--customer <id>')
    .requiredOption('--amount <amount>')
    .option('--reference <text>', 'remittance text; an invoice number here pays that invoice')
    .option('--date <YYYY-MM-DD>')
    .option('--method <method>', 'bank_transfer, card, cash, cheque, direct_debit', 'bank_transfer')
    .option('--payer <name>')
    .option('--external-id <id>', 'bank reference: recording it twice changes nothing')
    .option('--json')
    .action(async (o: Json & Record<string, string>) =>
      withCore(async (core) => emit(await recordPayment(core, { customerId: o.customer!, amount: o.amount!, reference: o.reference, date: o.date, method: o.method, payer: o.payer, externalId: o.externalId }, cliActor()), o, (p) => `${p.created ? 'recorded' : 'already recorded'}: ${paymentText(p)}`)),
    );
  payment.command('reverse <id>').requiredOption('--reason <reason>').option('--json').action(async (id: string, o: Json & { reason: string }) => withCore(async (core) => emit(await reversePayment(core, id, o.reason, cliActor()), o, paymentText)));
  payment
    .command('apply <id>')
    .requiredOption('--invoice <number>')
    .option('--amount <amount>')
    .option('--json')
    .action(async (id: string, o: Json & { invoice: string; amount?: string }) => withCore(async (core) => emit(await applyPaymentToInvoice(core, { paymentId: id, invoice: o.invoice, amount: o.amount }, cliActor()), o, paymentText)));
  payment.command('show <id>').option('--json').action(async (id: string, o: Json) => withCore(async (core) => emit(await getPayment(core, id), o, paymentText)));
  payment
    .command('list')
    .option('--customer <id>')
    .option('--json')
    .action(async (o: Json & { customer?: string }) =>
      withCore(async (core) => emit(await listPayments(core, { customerId: o.customer ? requireId(o.customer, 'customer') : undefined }), o, (l) => table(l.map((p) => ({ id: p.id, customer: p.customerId, date: p.paymentDate, amount: p.amount, currency: p.currency, status: p.status, unapplied: formatAmount(p.unappliedMinor, p.currency) }))))),
    );

  program
    .command('account-statement')
    .description("a customer's statement of account with running balance and aging")
    .requiredOption('--customer <id>')
    .option('--from <YYYY-MM-DD>')
    .option('--to <YYYY-MM-DD>')
    .option('--json')
    .action(async (o: Json & { customer: string; from?: string; to?: string }) => withCore(async (core) => emit(await accountStatement(core, { customerId: o.customer, from: o.from, to: o.to }), o, accountStatementText)));

  const settings = program.command('settings').description('company settings the rules read');
  settings.command('list').option('--json').action(async (o: Json) => withCore(async (core) => emit(await getSettings(core.db.kysely), o, (s) => Object.entries(s).map(([k, v]) => `${k} = ${String(v)}`).join('\n'))));
  settings
    .command('set <key> <value>')
    .option('--json')
    .action(async (key: string, value: string, o: Json) => withCore(async (core) => emit(await setSetting(core, key, value, cliActor()), o, (s) => Object.entries(s).map(([k, v]) => `${k} = ${String(v)}`).join('\n'))));
}
