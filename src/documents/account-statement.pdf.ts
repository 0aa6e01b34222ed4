import type { Core } from '../core.ts';
import { getCustomer } from '../customers/customer.service.ts';
import { labelledStatement } from '../payments/account.service.ts';
import { AGING_BUCKETS } from '../payments/account-statement.service.ts';
import { amount, describeLine, dueInWords, longDate, money } from './format.ts';
import { howToPay } from './how-to-pay.ts';
import { billTo, header, howToPayBlock } from './invoice.pdf.ts';
import { ensureRoom, MUTED, newPdf, PAGE, table } from './pdf.ts';

/**
 * A statement of account as a PDF: the opening balance, every document of the period with a
 * label, its debit or credit and the running balance, the closing balance, the summary of
 * what is open and overdue (the same numbers as the portal's balance card), the aging, the
 * open invoices, and how to pay.
 */
export async function accountStatementPdf(core: Core, input: { customerId: number | string; from?: string; to?: string }): Promise<{ customerId: number; from: string; to: string; pdf: Buffer }> {
  const st = await labelledStatement(core, input);
  const customer = await getCustomer(core, st.customerId);
  const pay = await howToPay(core);
  const c = st.currency;
  const s = st.summary;
  const pdf = newPdf({ title: `Statement of account ${customer.name} ${st.from} to ${st.to}`, author: pay.payee, subject: `Statement of account of customer ${customer.id}`, createdAt: core.clock.now() });
  let y = header(pdf, pay, 'Statement of account', `${longDate(st.from)} – ${longDate(st.to)}`, [
    ['Customer', String(customer.id)],
    ['Balance on ' + longDate(st.to), money(s.balanceMinor, c)],
  ]);
  y = billTo(pdf, y, customer.name, [`Customer ${customer.id}`, customer.country, customer.email].filter((v): v is string => !!v));
  y += 10;
  const facts = [
    `${s.openInvoices.length} open invoice${s.openInvoices.length === 1 ? '' : 's'}: ${money(s.openMinor, c)}`,
    `overdue: ${money(s.overdueMinor, c)}`,
    ...(s.creditOnAccountMinor !== 0 ? [`credit on account: ${money(-s.creditOnAccountMinor, c)}`] : []),
  ].join(' · ');
  y += pdf.write(facts, PAGE.margin, y, { size: 9.5, width: PAGE.width - 2 * PAGE.margin }) + 8;

  type Row = { date: string; document: string; label: string; debit: string; credit: string; balance: string; strong: boolean };
  const rows: Row[] = [
    { date: longDate(st.from), document: '', label: 'Opening balance', debit: '', credit: '', balance: amount(st.openingBalanceMinor, c), strong: true },
    ...st.lines.map((l) => ({ date: longDate(l.date), document: l.document, label: describeLine(l), debit: l.debitMinor ? amount(l.debitMinor, c) : '', credit: l.creditMinor ? amount(l.creditMinor, c) : '', balance: amount(l.balanceMinor, c), strong: false })),
    { date: longDate(st.to), document: '', label: 'Closing balance', debit: '', credit: '', balance: amount(st.closingBalanceMinor, c), strong: true },
  ];
  pdf.write(`Amounts in ${c}`, PAGE.margin, y, { size: 8, color: MUTED, width: PAGE.width - 2 * PAGE.margin, align: 'right' });
  y = table(
    pdf,
    [
      { header: 'Date', width: 62, oneLine: true, value: (r: Row) => r.date },
      { header: 'Document', width: 88, oneLine: true, value: (r) => r.document },
      { header: 'Description', width: 139, value: (r) => r.label, bold: (r) => r.strong },
      { header: 'Debit', width: 70, align: 'right', oneLine: true, value: (r) => r.debit },
      { header: 'Credit', width: 70, align: 'right', oneLine: true, value: (r) => r.credit },
      { header: 'Balance', width: 70, align: 'right', oneLine: true, value: (r) => r.balance, bold: (r) => r.strong },
    ],
    rows,
    y + 12,
  );

  y = ensureRoom(pdf, y + 10, 60);
  pdf.write('Aging of what is open', PAGE.margin, y, { size: 10.5, bold: true });
  const aging = AGING_BUCKETS.map((b) => ({ bucket: b === 'current' ? 'Not yet due' : `${b} days`, amount: amount(st.aging[b], c) }));
  y = table(pdf, aging.map((a) => ({ header: a.bucket, width: 83, align: 'right' as const, oneLine: true, value: () => a.amount })), [{}], y + 16);

  if (s.openInvoices.length > 0) {
    y = ensureRoom(pdf, y + 10, 60);
    pdf.write('Open invoices', PAGE.margin, y, { size: 10.5, bold: true });
    y = table(
      pdf,
      [
        { header: 'Invoice', width: 110, oneLine: true, value: (i: (typeof s.openInvoices)[number]) => i.number },
        { header: 'Date', width: 80, oneLine: true, value: (i) => longDate(i.invoiceDate) },
        { header: 'Due', width: 80, oneLine: true, value: (i) => longDate(i.dueDate) },
        { header: 'Status', width: 129, oneLine: true, value: (i) => dueInWords(i.daysPastDue) },
        { header: 'Open', width: 100, align: 'right', oneLine: true, value: (i) => amount(i.balanceMinor, c) },
      ],
      s.openInvoices,
      y + 16,
    );
  }
  howToPayBlock(pdf, pay, y + 12, null, true);
  return { customerId: st.customerId, from: st.from, to: st.to, pdf: await pdf.finish(`${pay.payee} · ${pay.email} · statement of account, customer ${customer.id}`) };
}
