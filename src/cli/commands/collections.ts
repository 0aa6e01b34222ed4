import fs from 'node:fs';
import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emitDocument, everything, table } from '../output.ts';
import { invalid } from '../../shared/errors.ts';
import { amount as formatAmount, money } from '../format.ts';
import { oneOf, requireId } from '../../shared/validate.ts';
import { pageQuery } from '../../shared/facing.ts';
import { runReminders, type ReminderRunResult } from '../../collections/reminder.service.ts';
import { runMonthlyStatements } from '../../collections/statement-run.service.ts';
import { exportOutbox, getMessage, listOutbox, OUTBOX_STATUSES, sendOutbox } from '../../collections/outbox.service.ts';
import { worklistPage, type WorklistPage } from '../../collections/worklist.service.ts';
import { listActions, logAction } from '../../collections/action.service.ts';
import { assignCustomer, getPolicy, listPolicies, savePolicy } from '../../collections/policy.service.ts';
import { policyToJson } from '../../collections/policy.ts';
import { cancelPromise, listPromises, PROMISE_STATUSES, promiseReliability, recordPromise, type PromiseToPay } from '../../collections/promise.service.ts';
import { getInvoice } from '../../invoicing/invoice.service.ts';
import { DISPUTE_STATUSES, listDisputes, openDispute, resolveDispute, type Dispute } from '../../collections/dispute.service.ts';
import { amountOption, collect } from './args.ts';

type Json = { json?: boolean };

function runText(r: ReminderRunResult): string {
  const out = [`reminder run as of ${r.asOf}${r.dryRun ? ' (dry run: nothing written)' : ''}: ${r.customersChecked} customers with open invoices, ${r.messages.length} reminders`];
  if (r.promisesDecided.length) out.push(`promises decided: ${r.promisesDecided.map((p) => `${p.id} ${p.status}`).join(', ')}`);
  if (r.messages.length) out.push('', table(r.messages.map((m) => ({ message: m.messageId ?? '', customer: m.customerId, name: m.customer, level: `${m.level} ${m.levelName}`, invoices: m.invoices, new: m.newNotices, paused: m.paused, 'total due': m.totalDue, actions: m.actions.join(' '), to: m.to ?? '(no address)' }))));
  if (r.sent !== null) out.push('', `sent ${r.sent}, failed ${r.failed}`);
  else if (!r.dryRun && r.messages.length) out.push('', 'messages are in the outbox: cashloop collections outbox (send with CASHLOOP_SMTP_URL set, or --export DIR)');
  return out.join('\n');
}

function worklistText(w: WorklistPage): string {
  const head = `worklist as of ${w.asOf}${w.collector ? ` for ${w.collector}` : ''}: ${w.totalItems} open invoices, ranked by ${w.basis === 'forecast' ? `amount at risk (open × probability of paying late, forecast of ${w.forecastAsOf})` : 'days overdue × amount (no forecast published yet)'}`;
  return [
    head, '',
    table(w.items.map((i) => ({
      rank: i.rank, customer: `${i.customerId} ${i.customer}`.slice(0, 28), collector: i.collector ?? '', invoice: i.invoice, due: i.dueDate, 'days over': i.daysPastDue, open: money(i.balanceMinor, i.currency), class: i.riskClass ?? '',
      'p(late)': i.probLate === null ? '' : i.probLate.toFixed(2), level: i.dunningLevel || '', promise: i.promise ? `${i.promise.date}${i.promise.reliability === null ? '' : ` (kept ${Math.round(i.promise.reliability * 100)} %)`}` : i.brokenPromiseRecently ? 'broken' : '', dispute: i.disputed ? 'open' : '',
      'last action': i.lastAction ? `${i.lastAction.date} ${i.lastAction.kind}` : '', next: i.nextAction ? `${i.nextAction.on ?? ''} ${i.nextAction.what}${i.nextAction.overdue ? ' (due)' : ''}`.trim() : '',
      'at risk': i.amountAtRiskMinor === null ? '' : money(i.amountAtRiskMinor, i.currency),
    }))),
  ].join('\n');
}

const promiseRows = (ps: PromiseToPay[]) => table(ps.map((p) => ({ promise: p.id, customer: p.customerId, invoices: p.invoices.join(' '), date: p.promisedDate, amount: `${formatAmount(p.amountMinor, p.currency)} ${p.currency}`, by: p.promisedBy ?? '', status: p.status, paid: formatAmount(p.paidMinor, p.currency), resolved: p.resolvedOn ?? '' })));
const disputeRows = (ds: Dispute[]) => table(ds.map((d) => ({ dispute: d.id, invoice: d.invoice, line: d.line ?? '', customer: d.customerId, amount: `${formatAmount(d.amountMinor, d.currency)} ${d.currency}`, reason: d.reason.slice(0, 40), status: d.status, 'credit note': d.creditNote ?? '', opened: d.openedOn, resolved: d.resolvedOn ?? '' })));
const disputeText = (d: Dispute) => `dispute ${d.id} on ${d.invoice}${d.line ? ` line ${d.line}` : ''}: ${formatAmount(d.amountMinor, d.currency)} ${d.currency}, ${d.status}${d.creditNote ? `, credit note ${d.creditNote}` : ''}${d.resolutionNote ? ` (${d.resolutionNote})` : ''}`;

export function registerCollections(program: Command): void {
  const col = program.command('collections').description('dunning runs, statements, the outbox, the collector worklist and its log');
  col
    .command('run')
    .description('reminder run: one consolidated reminder per customer with invoices at a new dunning level')
    .option('--as-of <date>', 'run as of this day (default today)')
    .option('--dry-run', 'show what would be written, write nothing')
    .option('--no-send', 'leave the new messages in the outbox even when SMTP is configured')
    .option('--customer <id>', 'only this customer; repeat for more', collect, [])
    .option('--json')
    .action(async (o: Json & { asOf?: string; dryRun?: boolean; send: boolean; customer: string[] }) =>
      withCore(async (core) => emitDocument(await runReminders(core, cliActor(), { asOf: o.asOf, dryRun: o.dryRun, send: o.send, customerIds: o.customer.length ? o.customer.map((c) => requireId(c, 'customer')) : undefined }), o, runText)),
    );
  col
    .command('statement-run')
    .description("the monthly statement run: each customer's statement of account into the outbox (default: last month)")
    .option('--month <YYYY-MM>', 'the month')
    .option('--dry-run', 'write nothing')
    .option('--json')
    .action(async (o: Json & { month?: string; dryRun?: boolean }) =>
      withCore(async (core) =>
        emitDocument(await runMonthlyStatements(core, cliActor(), { month: o.month, dryRun: o.dryRun }), o, (r) => `statements for ${r.month}: ${r.statements.length} written${r.dryRun ? ' (dry run)' : ''}, ${r.skipped} already written\n\n${table(r.statements.map((s) => ({ message: s.messageId ?? '', customer: s.customerId, name: s.customer, lines: s.lines, balance: s.closingBalance })))}`),
      ),
    );
  col
    .command('outbox')
    .description('messages waiting, sent or failed; --show one, --send over SMTP, --export as .eml files')
    .option('--status <status>', 'pending | sent | failed | exported')
    .option('--customer <id>', 'one customer')
    .option('--show <id>', 'print one message as text (--html for its HTML)')
    .option('--html', 'with --show: the HTML body')
    .option('--send', 'send pending messages to CASHLOOP_SMTP_URL')
    .option('--retry-failed', 'with --send: failed messages too')
    .option('--export <dir>', 'write pending messages as .eml files into DIR and mark them exported')
    .option('--json')
    .action(async (o: Json & { status?: string; customer?: string; show?: string; html?: boolean; send?: boolean; retryFailed?: boolean; export?: string }) => {
      // Checked as GET /collections/outbox checks ?status= and ?customerId=, with the same words.
      const status = o.status === undefined ? undefined : oneOf(o.status, 'status', OUTBOX_STATUSES);
      const customerId = o.customer ? requireId(o.customer, 'customer') : undefined;
      return withCore(async (core) => {
        if (o.show) {
          const m = await getMessage(core.db.kysely, o.show);
          emitDocument(m, o, (x) => (o.html ? x.html : `To: ${x.to ?? '(no address)'}\nSubject: ${x.subject}\nStatus: ${x.status}${x.error ? ` (${x.error})` : ''}\n\n${x.text}`));
        } else if (o.send) {
          emitDocument(await sendOutbox(core, cliActor(), { retryFailed: o.retryFailed }), o, (r) => `sent ${r.sent}, failed ${r.failed}${r.takenOver ? `, ${r.takenOver} taken over by another sender` : ''}${r.failed ? `\n${table(r.results.filter((x) => x.status === 'failed').map((x) => ({ message: x.id, customer: x.customerId, error: x.error ?? '' })))}` : ''}`);
        } else if (o.export) {
          emitDocument(await exportOutbox(core, o.export, cliActor(), { status }), o, (r) => `${r.files.length} messages written to ${r.dir}${r.takenOver ? ` (${r.takenOver} taken over by another sender)` : ''}`);
        } else {
          emitDocument(everything(await listOutbox(core.db.kysely, { status, customerId })), o, (ms) => table(ms.items.map((m) => ({ message: m.id, kind: m.kind, customer: m.customerId, 'as of': m.asOf, to: m.to ?? '', status: m.status, subject: m.subject.slice(0, 70), error: m.error ?? '' }))));
        }
      });
    });
  col
    .command('worklist')
    .description('open invoices ranked by amount at risk (open × probability of paying late), with promises, disputes, last and next action')
    .option('--collector <name>', "only this collector's customers")
    .option('--as-of <date>', 'as of this day (default today)')
    .option('--after <n>', 'the `next` of the previous page')
    .option('--limit <n>', 'how many items, 1 to 500', '50')
    .option('--json')
    .action(async (o: Json & { collector?: string; asOf?: string; after?: string; limit: string }) => {
      const paging = pageQuery(o);
      return withCore(async (core) => emitDocument(await worklistPage(core, { collector: o.collector, asOf: o.asOf }, paging), o, worklistText));
    });
  col
    .command('log')
    .description('log a call, e-mail, note or escalation, with the next action')
    .requiredOption('--customer <id>', 'customer id')
    .requiredOption('--kind <kind>', 'call | email | note | escalation')
    .option('--invoice <number>', 'about this invoice')
    .option('--note <text>', 'what happened')
    .option('--next-action <text>', 'what to do next')
    .option('--next-on <date>', 'when')
    .option('--json')
    .action(async (o: Json & { customer: string; kind: string; invoice?: string; note?: string; nextAction?: string; nextOn?: string }) =>
      withCore(async (core) => emitDocument(await logAction(core, { customerId: o.customer, kind: o.kind, invoice: o.invoice, note: o.note, nextAction: o.nextAction, nextActionOn: o.nextOn }, cliActor()), o, (a) => `logged ${a.kind} ${a.id} for customer ${a.customerId}${a.nextAction ? `; next: ${a.nextAction}${a.nextActionOn ? ` on ${a.nextActionOn}` : ''}` : ''}`)),
    );
  col
    .command('history')
    .description("a customer's collections log, newest first")
    .requiredOption('--customer <id>', 'customer id')
    .option('--json')
    .action(async (o: Json & { customer: string }) => withCore(async (core) => emitDocument(everything(await listActions(core.db.kysely, requireId(o.customer, 'customer'))), o, (as) => table(as.items.map((a) => ({ id: a.id, date: a.actionDate, kind: a.kind, note: (a.note ?? '').slice(0, 80), next: a.nextAction ? `${a.nextActionOn ?? ''} ${a.nextAction}`.trim() : '', by: a.actor }))))));
  col
    .command('assign')
    .description('assign a customer to a collector and/or a dunning policy ("" clears)')
    .requiredOption('--customer <id>', 'customer id')
    .option('--collector <name>', 'collector')
    .option('--policy <name>', 'dunning policy')
    .option('--json')
    .action(async (o: Json & { customer: string; collector?: string; policy?: string }) =>
      withCore(async (core) => emitDocument(await assignCustomer(core, { customerId: o.customer, collector: o.collector, policy: o.policy }, cliActor()), o, (c) => `customer ${c.id} ${c.name}: collector ${c.collector ?? '-'}, policy ${c.dunningPolicy ?? '(company default)'}`)),
    );
  const policy = col.command('policy').description('dunning policies');
  policy
    .command('list')
    .option('--json')
    .action(async (o: Json) => withCore(async (core) => emitDocument(everything((await listPolicies(core.db.kysely)).map(policyToJson)), o, (ps) => ps.items.map((p) => `${p.name}\n${table(p.levels.map((l) => ({ level: l.level, name: l.name, days: l.days, template: l.template, fee: l.fee, 'interest %': l.interestRatePercent, actions: (l.actions as string[]).join(' ') })))}`).join('\n\n'))));
  policy
    .command('show <name>')
    .action(async (name: string) => withCore(async (core) => emitDocument(policyToJson(await getPolicy(core.db.kysely, name)), { json: true }, () => '')));
  policy
    .command('set')
    .description('create or replace a policy from a JSON file (see docs/collections.md)')
    .requiredOption('--file <file>', 'policy JSON')
    .option('--json')
    .action(async (o: Json & { file: string }) =>
      withCore(async (core) => {
        let input: unknown;
        try {
          input = JSON.parse(fs.readFileSync(o.file, 'utf8'));
        } catch (e) {
          throw invalid(`policy file ${o.file} cannot be read as JSON: ${(e as Error).message}`, { field: 'file', value: o.file, rule: 'readable_json' });
        }
        emitDocument(policyToJson(await savePolicy(core, input, cliActor())), o, (p) => `policy ${p.name} saved with ${p.levels.length} levels`);
      }),
    );

  const promise = program.command('promise').description('promises to pay: record, list, cancel (kept or broken is decided from payments)');
  promise
    .command('add')
    .description('record a promise to pay; it pauses dunning for its invoices until its date')
    .requiredOption('--customer <id>', 'customer id')
    .requiredOption('--date <date>', 'promised payment date')
    .option('--invoice <number>', 'an invoice it covers; repeat for more (default: all open)', collect, [])
    .option('--amount <decimal>', 'promised amount (default: the open balance)', amountOption('amount'))
    .option('--by <who>', 'who promised')
    .option('--note <text>')
    .option('--json')
    .action(async (o: Json & { customer: string; date: string; invoice: string[]; amount?: string; by?: string; note?: string }) =>
      withCore(async (core) => emitDocument(await recordPromise(core, { customerId: o.customer, date: o.date, invoices: o.invoice, amount: o.amount, promisedBy: o.by, note: o.note }, cliActor()), o, (p) => `promise ${p.id}: ${money(p.amountMinor, p.currency)} by ${p.promisedDate} for ${p.invoices.join(', ')}`)),
    );
  promise
    .command('list')
    .option('--customer <id>')
    .option('--status <status>', 'open | kept | broken | cancelled')
    .option('--json')
    .action(async (o: Json & { customer?: string; status?: string }) =>
      withCore(async (core) => {
        const promises = await listPromises(core.db.kysely, { customerId: o.customer ? requireId(o.customer, 'customer') : undefined, status: o.status === undefined ? undefined : oneOf(o.status, 'status', PROMISE_STATUSES) });
        const reliability = await promiseReliability(core.db.kysely);
        const kept = [...new Set(promises.map((p) => p.customerId))].filter((c) => reliability.has(c)).map((c) => `customer ${c}: ${reliability.get(c)!.kept} of ${reliability.get(c)!.kept + reliability.get(c)!.broken} promises kept`);
        emitDocument(everything(promises), o, (ps) => [promiseRows(ps.items), ...(kept.length ? ['', ...kept] : [])].join('\n'));
      }),
    );
  promise
    .command('cancel <id>')
    .requiredOption('--reason <text>')
    .option('--json')
    .action(async (id: string, o: Json & { reason: string }) => withCore(async (core) => emitDocument(await cancelPromise(core, id, o.reason, cliActor()), o, (p) => `promise ${p.id} cancelled`)));

  const dispute = program.command('dispute').description('disputes on invoices: open, resolve (credit note, reject, withdraw), list');
  dispute
    .command('open')
    .description('open a dispute on an invoice or one of its lines; dunning pauses for the invoice')
    .requiredOption('--invoice <number>')
    .requiredOption('--reason <text>')
    .option('--line <n>', 'line number on the invoice (1 = first)')
    .option('--amount <decimal>', 'amount contested (default: the line or the open balance)', amountOption('amount'))
    .option('--json')
    .action(async (o: Json & { invoice: string; reason: string; line?: string; amount?: string }) => withCore(async (core) => emitDocument(await openDispute(core, { invoice: o.invoice, reason: o.reason, line: o.line, amount: o.amount }, cliActor()), o, disputeText)));
  dispute
    .command('resolve <id>')
    .description('end a dispute: credit (issues a dispute credit note), reject, or withdraw')
    .requiredOption('--outcome <outcome>', 'credit | reject | withdraw')
    .option('--amount <decimal>', 'with credit: the credit note amount (default: the contested amount)', amountOption('amount'))
    .option('--note <text>')
    .option('--json')
    .action(async (id: string, o: Json & { outcome: string; amount?: string; note?: string }) =>
      withCore(async (core) => {
        const d = await resolveDispute(core, id, { outcome: o.outcome, amount: o.amount, note: o.note }, cliActor());
        // The amount credited (--amount, or the contested amount) is said as money beside the note's number.
        const note = d.creditNote ? (await getInvoice(core, d.invoice)).creditNotes.find((n) => n.number === d.creditNote) : undefined;
        emitDocument(d, o, (x) => `${disputeText(x)}${note ? `; ${note.number} credits ${money(note.amountMinor, x.currency)}` : ''}`);
      }),
    );
  dispute
    .command('list')
    .option('--customer <id>')
    .option('--status <status>', 'open | credited | rejected | withdrawn')
    .option('--json')
    .action(async (o: Json & { customer?: string; status?: string }) => withCore(async (core) => emitDocument(everything(await listDisputes(core.db.kysely, { customerId: o.customer ? requireId(o.customer, 'customer') : undefined, status: o.status === undefined ? undefined : oneOf(o.status, 'status', DISPUTE_STATUSES) })), o, (p) => disputeRows(p.items))));
}
