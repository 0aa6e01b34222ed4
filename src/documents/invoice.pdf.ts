import type { Core } from '../core.ts';
import { getCustomer } from '../customers/customer.service.ts';
import { getInvoice, type InvoiceDetail } from '../invoicing/invoice.service.ts';
import { amount, longDate, money } from './format.ts';
import { howToPay, type HowToPay } from './how-to-pay.ts';
import { ensureRoom, INK, MUTED, newPdf, PAGE, RULE, table, type Pdf } from './pdf.ts';

/**
 * An invoice as a PDF: the company and the customer, the invoice's dates and order, every
 * line with its tax, the totals, what has been paid or credited and what is left, and how
 * to pay it (the account and the reference the bank matcher reads).
 */
export async function invoicePdf(core: Core, number: string): Promise<{ number: string; customerId: number; pdf: Buffer }> {
  const invoice = await getInvoice(core, number);
  const customer = await getCustomer(core, invoice.customerId);
  const pay = await howToPay(core, invoice);
  const pdf = newPdf({ title: `Invoice ${invoice.number}`, author: pay.payee, subject: `Invoice ${invoice.number} to ${customer.name}`, createdAt: core.clock.now() });
  let y = header(pdf, pay, 'Invoice', invoice.number, [
    ['Invoice date', longDate(invoice.invoiceDate)],
    ['Due date', longDate(invoice.dueDate)],
    ...(invoice.orderId !== null ? ([['Order', String(invoice.orderId)]] as [string, string][]) : []),
    ['Customer', String(customer.id)],
  ]);
  y = billTo(pdf, y, customer.name, [`Customer ${customer.id}`, customer.country, customer.email].filter((v): v is string => !!v));
  y = lines(pdf, invoice, y + 10);
  y = totals(pdf, invoice, y + 4);
  howToPayBlock(pdf, pay, y + 14, invoice.balanceMinor > 0 ? { amountMinor: invoice.balanceMinor, currency: invoice.currency, dueDate: invoice.dueDate } : null);
  return { number: invoice.number, customerId: invoice.customerId, pdf: await pdf.finish(`${pay.payee} · ${pay.email} · invoice ${invoice.number}`) };
}

/** The company on the left, the document's title, number and facts on the right; returns the y below. */
export function header(pdf: Pdf, pay: HowToPay, title: string, number: string, facts: [string, string][]): number {
  const { margin } = PAGE;
  const half = (PAGE.width - 2 * margin) / 2;
  let left = margin;
  left += pdf.write(pay.payee, margin, left, { size: 15, bold: true, width: half });
  pdf.write(pay.email, margin, left + 2, { size: 9, color: MUTED, width: half });
  let right = margin;
  right += pdf.write(title, margin + half, right, { size: 20, bold: true, width: half, align: 'right' });
  right += pdf.write(number, margin + half, right, { size: 11, width: half, align: 'right' });
  right += 6;
  for (const [label, value] of facts) {
    pdf.write(label, margin + half, right, { size: 9, color: MUTED, width: half - 110, align: 'right', oneLine: true });
    right += pdf.write(value, margin + half + half - 105, right, { size: 9, width: 105, align: 'right', oneLine: true });
  }
  return Math.max(left + 16, right) + 12;
}

export function billTo(pdf: Pdf, y: number, name: string, more: string[]): number {
  pdf.write('Bill to', PAGE.margin, y, { size: 8.5, color: MUTED });
  y += 12;
  y += pdf.write(name, PAGE.margin, y, { size: 11, bold: true, width: 300 });
  for (const line of more) y += pdf.write(line, PAGE.margin, y, { size: 9, width: 300 });
  return y;
}

/** A tax rate in basis points as a percentage: 2000 → "20 %", 750 → "7.5 %". */
const rate = (bp: number) => `${(bp / 100).toFixed(2).replace(/\.?0+$/, '')} %`;

function lines(pdf: Pdf, inv: InvoiceDetail, y: number): number {
  const c = inv.currency;
  pdf.write(`Amounts in ${c}`, PAGE.margin, y, { size: 8, color: MUTED, width: PAGE.width - 2 * PAGE.margin, align: 'right' });
  const below = table(
    pdf,
    [
      { header: '#', width: 20, oneLine: true, value: (l: InvoiceDetail['lines'][number] & { n: number }) => String(l.n) },
      { header: 'Description', width: 139, value: (l) => l.description },
      { header: 'Qty', width: 36, align: 'right', oneLine: true, value: (l) => l.quantity.toLocaleString('en-US') },
      { header: 'Unit price', width: 62, align: 'right', oneLine: true, value: (l) => amount(l.unitPriceMinor, c) },
      { header: 'Net', width: 68, align: 'right', oneLine: true, value: (l) => amount(l.netMinor, c) },
      { header: 'Tax', width: 34, align: 'right', oneLine: true, value: (l) => rate(l.taxRateBp) },
      { header: 'Tax amount', width: 60, align: 'right', oneLine: true, value: (l) => amount(l.taxMinor, c) },
      { header: 'Line total', width: 80, align: 'right', oneLine: true, value: (l) => amount(l.totalMinor, c) },
    ],
    inv.lines.map((l, i) => ({ ...l, n: i + 1 })),
    y + 12,
  );
  // The lines carry no discount of their own: say where it went.
  return below + pdf.write('Net is quantity × unit price less any discount on the line.', PAGE.margin, below, { size: 7.5, color: MUTED });
}

function totals(pdf: Pdf, inv: InvoiceDetail, y: number): number {
  const c = inv.currency;
  const byRate = new Map<number, { net: number; tax: number }>();
  for (const l of inv.lines) {
    const r = byRate.get(l.taxRateBp) ?? { net: 0, tax: 0 };
    r.net += l.netMinor;
    r.tax += l.taxMinor;
    byRate.set(l.taxRateBp, r);
  }
  const rows: [string, string, boolean][] = [['Net', money(inv.lines.reduce((s, l) => s + l.netMinor, 0), c), false]];
  for (const [bp, r] of [...byRate].sort((a, b) => a[0] - b[0])) rows.push([`Tax ${rate(bp)} on ${amount(r.net, c)}`, money(r.tax, c), false]);
  rows.push(['Total', money(inv.totalMinor, c), true]);
  if (inv.creditedMinor > 0) rows.push(['Less credit notes', money(-inv.creditedMinor, c), false]);
  if (inv.paidMinor > 0) rows.push(['Less paid', money(-inv.paidMinor, c), false]);
  if (inv.writtenOffMinor > 0) rows.push(['Less written off', money(-inv.writtenOffMinor, c), false]);
  rows.push([inv.balanceMinor > 0 ? 'Balance due' : 'Balance', money(inv.balanceMinor, c), true]);
  y = ensureRoom(pdf, y, rows.length * 15 + 10);
  const x = PAGE.width - PAGE.margin - 250;
  for (const [label, value, strong] of rows) {
    if (strong) pdf.doc.moveTo(x, y - 2).lineTo(PAGE.width - PAGE.margin, y - 2).lineWidth(0.7).strokeColor(RULE).stroke();
    pdf.write(label, x, y, { size: 9.5, bold: strong, width: 150, oneLine: true });
    y += pdf.write(value, x + 150, y, { size: 9.5, bold: strong, width: 100, align: 'right', oneLine: true }) + 3;
  }
  return y;
}

/** The "how to pay" box; `due` is null when nothing is left to pay (the box then says so). */
export function howToPayBlock(pdf: Pdf, pay: HowToPay, y: number, due: { amountMinor: number; currency: string; dueDate: string } | null, statement = false): number {
  const rows: [string, string][] = [['Account holder', pay.payee]];
  if (pay.bankName) rows.push(['Bank', pay.bankName]);
  if (pay.iban) rows.push(['IBAN', pay.iban]);
  if (pay.bic) rows.push(['BIC', pay.bic]);
  rows.push(['Reference', pay.reference ?? 'the numbers of the invoices you pay']);
  const width = PAGE.width - 2 * PAGE.margin;
  const note = statement
    ? 'Quote each invoice number you pay in the payment reference, so your payment is matched to those invoices at once.'
    : 'Quote exactly this reference so your payment is matched to this invoice at once.';
  const height = 34 + rows.length * 14 + pdf.heightOf(note, width - 20, { size: 8.5 }) + pdf.heightOf(pay.instructions, width - 20, { size: 8.5 });
  y = ensureRoom(pdf, y, height + 10);
  pdf.doc.roundedRect(PAGE.margin, y, width, height, 4).lineWidth(0.8).strokeColor(RULE).stroke();
  let inner = y + 10;
  const title = due ? `How to pay: ${money(due.amountMinor, due.currency)} by ${longDate(due.dueDate)}` : statement ? 'How to pay' : 'Nothing is left to pay on this invoice';
  inner += pdf.write(title, PAGE.margin + 10, inner, { size: 10.5, bold: true, width: width - 20 }) + 4;
  for (const [label, value] of rows) {
    pdf.write(label, PAGE.margin + 10, inner, { size: 9.5, color: MUTED, width: 100, oneLine: true });
    inner += pdf.write(value, PAGE.margin + 110, inner, { size: 9.5, bold: label === 'Reference' || label === 'IBAN', width: width - 130 }) + 2;
  }
  inner += 2;
  inner += pdf.write(note, PAGE.margin + 10, inner, { size: 8.5, color: MUTED, width: width - 20 });
  pdf.write(pay.instructions, PAGE.margin + 10, inner, { size: 8.5, color: INK, width: width - 20 });
  return y + height;
}
