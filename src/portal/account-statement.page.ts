import type { Core } from '../core.ts';
import { labelledStatement, type LabelledStatement } from '../payments/account.service.ts';
import { AGING_BUCKETS } from '../payments/account-statement.service.ts';
import { amount, describeLine, longDate } from '../documents/format.ts';
import { balanceCard, esc, href, page } from './layout.ts';

/**
 * The statement of account laid out as one: the period, the opening balance, every document
 * with its date, number and a label (payments, credit notes, discounts and write-offs too),
 * debit, credit and the running balance in columns of tabular figures that never wrap, the
 * closing balance and the aging. On a phone the date, number and label share the first
 * column, so the three columns of figures keep their width; a table wider than the screen
 * scrolls inside its box.
 */
export async function loadStatement(core: Core, customerId: number, period: { from?: string; to?: string }): Promise<LabelledStatement> {
  return labelledStatement(core, { customerId, from: period.from, to: period.to });
}

export function statementPage(customer: { id: number; name: string }, csrf: string, st: LabelledStatement, asked: { from?: string; to?: string }): string {
  const c = st.currency;
  const a = (minor: number) => (minor ? esc(amount(minor, c)) : '');
  const rows = st.lines
    .map(
      (l) => `<tr><td><span class="muted small">${esc(longDate(l.date))}</span> <span class="doc">${esc(l.document)}</span><div class="small">${esc(describeLine(l))}</div></td><td class="num">${a(l.debitMinor)}</td><td class="num">${a(l.creditMinor)}</td><td class="num">${esc(amount(l.balanceMinor, c))}</td></tr>`,
    )
    .join('\n');
  const period = { from: asked.from, to: asked.to };
  return page({
    title: 'Statement of account',
    customer,
    csrf,
    active: 'statement',
    body: `<h1>Statement of account</h1>
<p class="muted">${esc(longDate(st.from))} – ${esc(longDate(st.to))} · amounts in ${esc(c)}</p>
<form method="get" action="/portal/statement" class="card" aria-label="Period">
<div class="row"><div><label for="from">From</label><input type="date" id="from" name="from" value="${esc(st.from)}"></div><div><label for="to">To</label><input type="date" id="to" name="to" value="${esc(st.to)}"></div></div>
<div class="actions"><button class="primary" type="submit">Show</button><a class="button secondary" href="${href('/portal/statement.pdf', period)}">Download PDF</a></div></form>
<div class="scroll"><table class="statement"><thead><tr><th>Date · document</th><th class="num">Debit</th><th class="num">Credit</th><th class="num">Balance</th></tr></thead><tbody>
<tr class="total"><td><span class="muted small">${esc(longDate(st.from))}</span><span class="doc">Opening balance</span></td><td></td><td></td><td class="num">${esc(amount(st.openingBalanceMinor, c))}</td></tr>
${rows || '<tr><td colspan="4" class="muted">No documents in this period.</td></tr>'}
<tr class="total"><td><span class="muted small">${esc(longDate(st.to))}</span><span class="doc">Closing balance</span></td><td></td><td></td><td class="num" data-figure="closing">${esc(amount(st.closingBalanceMinor, c))}</td></tr>
</tbody></table></div>
${balanceCard(st.summary)}
<h2>Aging of what is open</h2>
<dl class="facts card" aria-label="Aging">${AGING_BUCKETS.map((b) => `<dt>${b === 'current' ? 'Not yet due' : `${b} days overdue`}</dt><dd class="amount">${esc(amount(st.aging[b], c))}</dd>`).join('')}</dl>`,
  });
}
