import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emitDocument, everything, table } from '../output.ts';
import { accountStatementText, paymentText } from '../format.ts';
import { amount as formatAmount } from '../format.ts';
import { requireId } from '../../shared/validate.ts';
import { applyPaymentToInvoice, getPayment, listPayments, recordPayment, reversePayment } from '../../payments/payment.service.ts';
import { accountStatement } from '../../payments/account-statement.service.ts';
import { getCustomer } from '../../customers/customer.service.ts';
import { parseBusinessDate } from '../../shared/dates.ts';
import { parsePositiveAmount } from '../../shared/money.ts';
import { amountOption, decimalArg, type Json } from './args.ts';

/** Payments and the customer's account statement (the API's payments.routes.ts and GET /customers/{id}/account-statement). */
export function registerPayments(program: Command): void {
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
    .action(async (o: Json & Record<string, string>) => {
      const customerId = requireId(o.customer, 'customer');
      const amountText = decimalArg(o.amount!, 'amount');
      if (o.date !== undefined) parseBusinessDate(o.date, 'date');
      return withCore(async (core) => {
        // An unknown customer or an amount its currency cannot hold is refused before a change starts.
        const customer = await getCustomer(core, customerId);
        parsePositiveAmount(amountText, customer.currency, 'amount');
        emitDocument(await recordPayment(core, { customerId, amount: amountText, reference: o.reference, date: o.date, method: o.method, payer: o.payer, externalId: o.externalId }, cliActor()), o, (p) => `${p.created ? 'recorded' : 'already recorded'}: ${paymentText(p)}`);
      });
    });
  payment.command('reverse <id>').requiredOption('--reason <reason>').option('--json').action(async (id: string, o: Json & { reason: string }) => withCore(async (core) => emitDocument(await reversePayment(core, id, o.reason, cliActor()), o, paymentText)));
  payment
    .command('apply <id>')
    .requiredOption('--invoice <number>')
    .option('--amount <amount>', 'how much of the unapplied cash (default: all the invoice takes)', amountOption('amount'))
    .option('--json')
    .action(async (id: string, o: Json & { invoice: string; amount?: string }) => withCore(async (core) => emitDocument(await applyPaymentToInvoice(core, { paymentId: id, invoice: o.invoice, amount: o.amount }, cliActor()), o, paymentText)));
  payment.command('show <id>').option('--json').action(async (id: string, o: Json) => withCore(async (core) => emitDocument(await getPayment(core, id), o, paymentText)));
  payment
    .command('list')
    .option('--customer <id>')
    .option('--json')
    .action(async (o: Json & { customer?: string }) =>
      withCore(async (core) => emitDocument(everything(await listPayments(core, { customerId: o.customer ? requireId(o.customer, 'customer') : undefined })), o, (l) => table(l.items.map((p) => ({ id: p.id, customer: p.customerId, date: p.paymentDate, amount: formatAmount(p.amountMinor, p.currency), currency: p.currency, status: p.status, unapplied: formatAmount(p.unappliedMinor, p.currency) }))))),
    );

  program
    .command('account-statement')
    .description("a customer's statement of account with running balance and aging")
    .requiredOption('--customer <id>')
    .option('--from <YYYY-MM-DD>')
    .option('--to <YYYY-MM-DD>')
    .option('--json')
    .action(async (o: Json & { customer: string; from?: string; to?: string }) => withCore(async (core) => emitDocument(await accountStatement(core, { customerId: o.customer, from: o.from, to: o.to }), o, accountStatementText)));
}
