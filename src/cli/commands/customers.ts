import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emitDocument, table } from '../output.ts';
import { page, pageQuery, PAGE_LIMIT } from '../../shared/facing.ts';
import { oneOf } from '../../shared/validate.ts';
import { amount, customerText } from '../format.ts';
import { createCustomer, CUSTOMER_STATUSES, getCustomer, listCustomers, setCustomerStatus, updateCustomer } from '../../customers/customer.service.ts';
import { amountOption, type Json } from './args.ts';

/** Customers (the API's customers.routes.ts): create, show, list, update, block, activate. */
export function registerCustomers(program: Command): void {
  const customer = program.command('customer').description('customers: create, show, list, update, block');
  customer
    .command('create')
    .requiredOption('--name <name>')
    .option('--credit-limit <amount>', 'credit limit in the customer currency', amountOption('creditLimit'), '0')
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
        emitDocument(c, o, (r) => `${r.created ? 'created' : 'exists'}: ${customerText(r)}`);
      }),
    );
  customer.command('show <id>').option('--json').action(async (id: string, o: Json) => withCore(async (core) => emitDocument(await getCustomer(core, id), o, customerText)));
  customer
    .command('list')
    .option('--status <status>')
    .option('--after <id>')
    .option('--limit <n>', '', '100')
    .option('--json')
    .action(async (o: Json & { status?: string; after?: string; limit: string }) => {
      // Checked as GET /customers checks ?status=, ?after= and ?limit=, with the same words.
      const status = o.status === undefined ? undefined : oneOf(o.status, 'status', CUSTOMER_STATUSES);
      const { after, limit = PAGE_LIMIT.default } = pageQuery(o);
      return withCore(async (core) => {
        const list = page(await listCustomers(core, { status, afterId: after, limit }), limit);
        emitDocument(list, o, (l) => table(l.items.map((c) => ({ id: c.id, name: c.name, status: c.status, currency: c.currency, terms: c.paymentTermsDays, limit: amount(c.creditLimitMinor, c.currency), risk: c.riskClass ?? '' }))));
      });
    });
  customer
    .command('update <id>')
    .option('--name <name>')
    .option('--credit-limit <amount>', 'credit limit in the customer currency', amountOption('creditLimit'))
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
        emitDocument(c, o, customerText);
      }),
    );
  for (const [name, status] of [['block', 'blocked'], ['activate', 'active']] as const) {
    customer
      .command(`${name} <id>`)
      .requiredOption('--reason <reason>')
      .option('--json')
      .action(async (id: string, o: Json & { reason: string }) => withCore(async (core) => emitDocument(await setCustomerStatus(core, id, status, o.reason, cliActor()), o, customerText)));
  }
}
