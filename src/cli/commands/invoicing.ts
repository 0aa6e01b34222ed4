import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emitDocument, everything } from '../output.ts';
import { invoiceText, invoicesText, money } from '../format.ts';
import { requireId } from '../../shared/validate.ts';
import { createCreditNote, getInvoice, listInvoices, writeOffInvoice } from '../../invoicing/invoice.service.ts';
import { parsePositiveAmount } from '../../shared/money.ts';
import { decimalArg, type Json } from './args.ts';

/** Invoices and credit notes (the API's invoicing.routes.ts). */
export function registerInvoicing(program: Command): void {
  const invoice = program.command('invoice').description('invoices: list, show, write-off');
  invoice
    .command('list')
    .option('--customer <id>')
    .option('--open', 'only invoices with an open balance')
    .option('--json')
    .action(async (o: Json & { customer?: string; open?: boolean }) => withCore(async (core) => emitDocument(everything(await listInvoices(core, { customerId: o.customer ? requireId(o.customer, 'customer') : undefined, openOnly: o.open })), o, (p) => invoicesText(p.items))));
  invoice.command('show <number>').option('--json').action(async (n: string, o: Json) => withCore(async (core) => emitDocument(await getInvoice(core, n), o, invoiceText)));
  invoice
    .command('write-off <number>')
    .description('write off a small remainder (within the tolerance), or with --bad-debt an uncollectable balance')
    .requiredOption('--reason <reason>')
    .option('--bad-debt', 'the customer will not pay: write off any remainder')
    .option('--json')
    .action(async (n: string, o: Json & { reason: string; badDebt?: boolean }) =>
      withCore(async (core) => emitDocument(await writeOffInvoice(core, n, o.reason, cliActor(), undefined, { badDebt: o.badDebt }), o, (r) => `invoice ${r.number}: wrote off ${r.writtenOff} (${r.kind})`)),
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
    .action(async (o: Json & { invoice: string; amount: string; reason: string; kind: 'return' }) => {
      const amountText = decimalArg(o.amount, 'amount');
      return withCore(async (core) => {
        // An unknown invoice or an amount its currency cannot hold is refused before a change starts.
        const invoice = await getInvoice(core, o.invoice);
        parsePositiveAmount(amountText, invoice.currency, 'amount');
        emitDocument(await createCreditNote(core, { invoice: o.invoice, amount: amountText, reason: o.reason, kind: o.kind }, cliActor()), o, (r) => `credit note ${r.number}: ${money(r.amountMinor, invoice.currency)} on ${r.invoice.number}; balance now ${money(r.invoice.balanceMinor, invoice.currency)}`);
      });
    });
}
