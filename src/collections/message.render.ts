import { displayMoney } from '../shared/figures.ts';
import type { AccountStatement } from '../payments/account-statement.service.ts';
import { AGING_BUCKETS } from '../payments/account-statement.service.ts';
import type { ReminderPlan } from './reminder.rules.ts';

/**
 * Reminders and statements as the customer reads them: a plain-text body and an HTML body
 * saying the same. Every value from the database is escaped in the HTML; nothing is loaded
 * from outside the message (no images, no fonts).
 */
export interface Company {
  name: string;
  email: string;
  paymentInstructions: string;
}

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

const INTRO = {
  friendly: 'This is a friendly reminder about the invoices below, which fall due shortly or have just fallen due. If you have already paid them, thank you, and please ignore this message.',
  reminder: 'According to our records the invoices below are past their due date. Please pay the amounts shown, or tell us straight away if anything about an invoice is wrong.',
  final: 'Despite our earlier reminders the invoices below remain unpaid. Please pay the total shown within 7 days.',
} as const;

const ACTION_TEXT: Record<string, string> = {
  credit_hold: 'New orders are on hold until the overdue invoices are paid.',
  hand_over: 'If we do not hear from you, the account will be handed over to our collections team.',
};

const days = (n: number) => `${n} day${n === 1 ? '' : 's'}`;

const HTML_SPECIAL = /[&<>"']/;

export function escapeHtml(value: string): string {
  // Most cells (dates, amounts, numbers) hold none of the five characters: returned as they are.
  if (!HTML_SPECIAL.test(value)) return value;
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

function textTable(header: string[], rows: string[][], right: number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (right.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function htmlTable(header: string[], rows: string[][], right: number[] = [], foot?: string[]): string {
  const cell = (tag: string, c: string, i: number) => `<${tag} style="padding:4px 8px;border-bottom:1px solid #ddd;text-align:${right.includes(i) ? 'right' : 'left'}">${escapeHtml(c)}</${tag}>`;
  return [
    '<table style="border-collapse:collapse;font-size:14px">',
    `<thead><tr>${header.map((h, i) => cell('th', h, i)).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`).join('')}</tbody>`,
    foot ? `<tfoot><tr>${foot.map((c, i) => cell('th', c, i)).join('')}</tr></tfoot>` : '',
    '</table>',
  ].join('');
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head><body style="font-family:system-ui,sans-serif;color:#222;max-width:720px;margin:auto;padding:16px">${body}</body></html>`;
}

function statementParts(s: AccountStatement): { text: string; html: string } {
  const money = (m: number) => displayMoney(m, s.currency);
  const aging = AGING_BUCKETS.map((b) => [b === 'current' ? 'not yet due' : `${b} days overdue`, money(s.aging[b])]);
  const shown = s.lines.slice(-15);
  const omitted = s.lines.length - shown.length;
  const lines = shown.map((l) => [l.date, l.document, l.description, l.debitMinor ? money(l.debitMinor) : '', l.creditMinor ? money(l.creditMinor) : '', money(l.balanceMinor)]);
  const head = ['date', 'document', 'description', 'charged', 'paid / credited', 'balance'];
  const intro = `Statement of account ${s.from} to ${s.to}: opening balance ${money(s.openingBalanceMinor)}, closing balance ${money(s.closingBalanceMinor)}.${omitted > 0 ? ` The ${shown.length} latest of its ${s.lines.length} movements:` : ''}`;
  return {
    text: [intro, '', lines.length ? textTable(head, lines, [3, 4, 5]) : '(no movements in the period)', '', 'Open items by age:', textTable(['age', 'amount'], aging, [1])].join('\n'),
    html: `<p>${escapeHtml(intro)}</p>${lines.length ? htmlTable(head, lines, [3, 4, 5]) : '<p>(no movements in the period)</p>'}<h3 style="font-size:15px">Open items by age</h3>${htmlTable(['age', 'amount'], aging, [1])}`,
  };
}

/** The consolidated reminder of one customer: every invoice at its level, fee, interest, total, how to pay, and the statement. */
export function renderReminder(plan: ReminderPlan, customer: { name: string }, company: Company, statement: AccountStatement): RenderedMessage {
  const money = (m: number) => displayMoney(m, plan.currency);
  const overdue = plan.lines.filter((l) => l.daysPastDue > 0).length;
  const subject =
    plan.level.template === 'friendly'
      ? `Friendly reminder: ${plan.lines.length} invoice${plan.lines.length === 1 ? '' : 's'} ${overdue ? 'due or just past due' : 'due soon'} — ${company.name}`
      : plan.level.template === 'final'
        ? `Final notice: ${overdue} overdue invoice${overdue === 1 ? '' : 's'}, ${money(plan.totalDueMinor)} — ${company.name}`
        : `${plan.level.name}: ${overdue} overdue invoice${overdue === 1 ? '' : 's'}, ${money(plan.totalDueMinor)} — ${company.name}`;
  const intro = plan.level.intro ?? INTRO[plan.level.template];
  const actions = plan.actions.map((a) => ACTION_TEXT[a]).filter((t): t is string => Boolean(t));
  const rows = plan.lines.map((l) => [
    l.number, l.invoiceDate, l.dueDate,
    l.daysPastDue > 0 ? `${days(l.daysPastDue)} overdue` : l.daysPastDue === 0 ? 'due today' : `due in ${days(-l.daysPastDue)}`,
    `${l.level.name}${l.isNew ? '' : ' (reminded before)'}`, money(l.balanceMinor),
  ]);
  const head = ['invoice', 'dated', 'due', 'status', 'reminder', 'open amount'];
  const balance = plan.lines.reduce((s, l) => s + l.balanceMinor, 0);
  const sums: string[][] = [['Open amount', money(balance)]];
  if (plan.interestMinor > 0) sums.push(['Interest on overdue amounts', money(plan.interestMinor)]);
  if (plan.feeMinor > 0) sums.push(['Reminder fee', money(plan.feeMinor)]);
  sums.push(['Total to pay', money(plan.totalDueMinor)]);
  const paused = plan.paused.map((p) => `${p.number}: ${p.why === 'disputed' ? 'under dispute, not included until it is settled' : `you promised payment by ${p.until}, not included`}`);
  const st = statementParts(statement);
  const text = [
    `Dear ${customer.name},`, '', intro, '', textTable(head, rows, [5]), '', textTable(['', ''], sums, [1]).split('\n').slice(2).join('\n'), '',
    ...(paused.length ? ['Not included:', ...paused.map((p) => `- ${p}`), ''] : []),
    ...(actions.length ? [...actions, ''] : []),
    `How to pay: ${company.paymentInstructions}`, '', 'If you have paid in the meantime, thank you; please disregard this letter.', '', `Kind regards,`, `${company.name} — accounts receivable (${company.email})`, '', '—', st.text, '',
  ].join('\n');
  const html = page(subject, [
    `<p>Dear ${escapeHtml(customer.name)},</p>`, `<p>${escapeHtml(intro)}</p>`, htmlTable(head, rows, [5]),
    `<table style="margin-top:12px;font-size:14px">${sums.map(([k, v], i) => `<tr><td style="padding:2px 8px">${i === sums.length - 1 ? `<b>${escapeHtml(k!)}</b>` : escapeHtml(k!)}</td><td style="padding:2px 8px;text-align:right">${i === sums.length - 1 ? `<b>${escapeHtml(v!)}</b>` : escapeHtml(v!)}</td></tr>`).join('')}</table>`,
    paused.length ? `<p>Not included:</p><ul>${paused.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>` : '',
    actions.map((a) => `<p><b>${escapeHtml(a)}</b></p>`).join(''),
    `<p><b>How to pay:</b> ${escapeHtml(company.paymentInstructions)}</p>`, '<p>If you have paid in the meantime, thank you; please disregard this letter.</p>',
    `<p>Kind regards,<br>${escapeHtml(company.name)} — accounts receivable (${escapeHtml(company.email)})</p>`, '<hr>', `<h2 style="font-size:17px">Your statement of account</h2>`, st.html,
  ].join('\n'));
  return { subject, text, html };
}

/** The monthly statement of account of one customer. */
export function renderAccountStatement(statement: AccountStatement, customer: { name: string }, company: Company): RenderedMessage {
  const money = (m: number) => displayMoney(m, statement.currency);
  const subject = `Statement of account ${statement.from} to ${statement.to}: balance ${money(statement.closingBalanceMinor)} — ${company.name}`;
  const st = statementParts(statement);
  const open = statement.openInvoices.map((o) => [o.number, o.invoiceDate, o.dueDate, o.daysPastDue > 0 ? `${days(o.daysPastDue)} overdue` : 'not yet due', money(o.balanceMinor)]);
  const openHead = ['invoice', 'dated', 'due', 'status', 'open amount'];
  const text = [
    `Dear ${customer.name},`, '', `Here is your statement of account for ${statement.from} to ${statement.to}.`, '', st.text, '',
    ...(open.length ? ['Open invoices:', textTable(openHead, open, [4]), ''] : ['Nothing is open on your account. Thank you.', '']),
    `How to pay: ${company.paymentInstructions}`, '', 'Kind regards,', `${company.name} — accounts receivable (${company.email})`, '',
  ].join('\n');
  const html = page(subject, [
    `<p>Dear ${escapeHtml(customer.name)},</p>`, `<p>Here is your statement of account for ${escapeHtml(statement.from)} to ${escapeHtml(statement.to)}.</p>`, st.html,
    open.length ? `<h3 style="font-size:15px">Open invoices</h3>${htmlTable(openHead, open, [4])}` : '<p>Nothing is open on your account. Thank you.</p>',
    `<p><b>How to pay:</b> ${escapeHtml(company.paymentInstructions)}</p>`, `<p>Kind regards,<br>${escapeHtml(company.name)} — accounts receivable (${escapeHtml(company.email)})</p>`,
  ].join('\n'));
  return { subject, text, html };
}
