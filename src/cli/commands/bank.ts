import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emit, table } from '../output.ts';
import { amount as formatAmount } from '../format.ts';
import type { BankEntry, BankImportReport } from '../../bank/bank.service.ts';

/** The bank service (and its XML parser) loads only when a bank command runs. */
const bankService = () => import('../../bank/bank.service.ts');

type Json = { json?: boolean };

const entryRows = (entries: BankEntry[]) =>
  table(
    entries.map((e) => ({ entry: e.id, date: e.bookingDate, dir: e.direction, amount: e.amount, currency: e.currency, payer: e.payerName ?? e.payerIban ?? '', customer: e.customerId ?? '', remittance: (e.remittance ?? '').replace(/\s+/g, ' ').slice(0, 40), status: e.status, rule: e.matchRule ?? '', invoice: e.invoiceNumber ?? '', payment: e.paymentId ?? '', return: e.returnReason ?? '' })),
  );

function importText(r: BankImportReport): string {
  const out = [
    `imported ${r.format} statement ${r.file}: ${r.entries} entries`,
    `matched ${r.matched}, unmatched ${r.unmatched}, returns reversed ${r.reversed}, other debits ignored ${r.ignored}, already imported ${r.unchanged}`,
  ];
  for (const c of r.credits) out.push(`payments booked: ${c.entries} for ${formatAmount(c.amountMinor, c.currency)} ${c.currency}`);
  out.push('', table(r.results.map((x) => ({ entry: x.key, status: x.status, rule: x.rule ?? '', invoice: x.invoiceNumber ?? '', payment: x.paymentId ?? '', outcome: x.outcome }))));
  if (r.unmatched) out.push('', 'work the rest with: cashloop bank unmatched, then cashloop bank match ENTRY --invoice NUMBER');
  return out.join('\n');
}

export function registerBank(program: Command): void {
  const bank = program.command('bank').description('bank statements: import camt.053 or CSV, match credits to invoices, reverse returns');
  bank
    .command('import <file>')
    .description('import a camt.053 XML statement, or a CSV statement through --mapping')
    .option('--mapping <file>', 'mapping JSON for a CSV statement')
    .option('--json')
    .action(async (file: string, o: Json & { mapping?: string }) => withCore(async (core) => emit(await (await bankService()).importBankStatement(core, { file, mapping: o.mapping, actor: cliActor() }), o, importText)));
  bank
    .command('unmatched')
    .description('entries left to match by hand')
    .option('--json')
    .action(async (o: Json) => withCore(async (core) => emit(await (await bankService()).listUnmatched(core), o, entryRows)));
  bank
    .command('entries')
    .description('all imported entries')
    .option('--status <status>', 'matched | unmatched | reversed | ignored')
    .option('--json')
    .action(async (o: Json & { status?: string }) => withCore(async (core) => emit(await (await bankService()).listBankEntries(core, { status: o.status }), o, entryRows)));
  bank
    .command('match <entry>')
    .description('settle an unmatched credit entry with an invoice (records its payment)')
    .requiredOption('--invoice <number>', 'invoice number, or an imported invoice\'s old number')
    .option('--json')
    .action(async (entry: string, o: Json & { invoice: string }) =>
      withCore(async (core) => emit(await (await bankService()).matchEntry(core, entry, o.invoice, cliActor()), o, (e) => `entry ${e.id} matched to ${e.invoiceNumber}: payment ${e.paymentId} of ${e.amount} ${e.currency}`)),
    );
}
