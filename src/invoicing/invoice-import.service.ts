import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { parseAmount } from '../shared/money.ts';
import { displayMoney } from '../shared/figures.ts';
import { parseBusinessDate } from '../shared/dates.ts';
import { requireId, requireText } from '../shared/validate.ts';
import { invoiceBalances } from './invoice.repository.ts';
import { syncExposure } from '../exposure/exposure.workflow.ts';
import { toInvoice, type Invoice } from './invoice.service.ts';

/** Prefix of the numbers imported invoices carry: they live outside the gapless INV sequence. */
export const IMPORTED_INVOICE_PREFIX = 'IMP-';

export interface HistoricalInvoiceInput {
  customerId: number | string;
  /** The invoice's number in the old system; kept as `external_ref`, and the key of a re-run. */
  externalRef: string;
  invoiceDate: string;
  dueDate: string;
  /** Decimal in the customer's currency: what the invoice was issued for. */
  amount: string | number;
  currency?: string;
  disputed?: boolean;
}

/**
 * Writes an invoice that was issued in another system (legacy import), numbered
 * `IMP-<external ref>` so the gapless `INV-YYYY-NNNNNN` sequence is never touched. It is
 * written open, with one summary line and no order; payments (also imported) settle it
 * through the usual cash application. A zero-amount invoice is written paid on its date. Idempotent by external ref: a second call with the
 * same details returns the first invoice, with other details it is a conflict.
 *
 * @example importHistoricalInvoice(core, { customerId: 3, externalRef: '0000611365', invoiceDate: '2013-01-02', dueDate: '2013-02-01', amount: '55.94' }, 'import')
 */
export async function importHistoricalInvoice(core: Core, input: HistoricalInvoiceInput, actor: string): Promise<Invoice & { created: boolean }> {
  const customerId = requireId(input.customerId, 'customerId');
  const externalRef = requireText(input.externalRef, 'externalRef', 100 - IMPORTED_INVOICE_PREFIX.length);
  const invoiceDate = parseBusinessDate(input.invoiceDate, 'invoiceDate');
  const dueDate = parseBusinessDate(input.dueDate, 'dueDate');
  if (dueDate < invoiceDate) throw invalid(`dueDate ${dueDate} is before invoiceDate ${invoiceDate}`, { field: 'dueDate', value: dueDate, rule: 'due_after_invoice_date' });
  const db = core.db.kysely;
  const customer = await db.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirst();
  if (!customer) throw notFound('customer', customerId);
  const currency = input.currency ?? customer.currency;
  if (currency !== customer.currency) {
    throw invalid(`customer ${customer.external_id ?? customerId} is invoiced in ${customer.currency}; an invoice in ${currency} cannot be imported`, { entity: 'invoice', id: externalRef, field: 'currency', value: currency, rule: 'currency_match' });
  }
  // Zero is an amount: a free-of-charge invoice is a document of the old system like any other.
  const amount = parseAmount(input.amount, currency, 'amount');
  if (amount < 0) throw invalid(`amount ${input.amount} is negative`, { entity: 'invoice', id: externalRef, field: 'amount', value: input.amount, rule: 'amount_not_negative' });
  const number = `${IMPORTED_INVOICE_PREFIX}${externalRef}`;
  const existing = await db.selectFrom('invoices').select(['id', 'number', 'customer_id', 'total_minor']).where((eb) => eb.or([eb('external_ref', '=', externalRef), eb('number', '=', number)])).executeTakeFirst();
  if (existing) {
    if (existing.customer_id !== customerId || existing.total_minor !== amount) {
      throw conflict(`invoice ${externalRef} was already imported as ${existing.number} with other details (customer or amount ${displayMoney(existing.total_minor, currency)})`, {
        entity: 'invoice', id: externalRef, field: 'externalRef', value: externalRef, rule: 'idempotent_retry',
      });
    }
    const [b] = await invoiceBalances(db, { invoiceIds: [existing.id] });
    return { ...toInvoice(b!), created: false };
  }
  const id = await runChange(core, actor, async ({ trx, at }) => {
    const invoice = await trx
      .insertInto('invoices')
      .values({
        number, external_ref: externalRef, customer_id: customerId, order_id: null, shipment_id: null, currency, invoice_date: invoiceDate, due_date: dueDate,
        // Nothing is owed on a zero-amount invoice: it is paid the day it is issued.
        status: amount === 0 ? 'paid' : 'open', subtotal_minor: amount, tax_minor: 0, total_minor: amount, disputed: input.disputed ? 1 : 0,
        settled_date: amount === 0 ? invoiceDate : null, created_at: at, updated_at: at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const line = await trx
      .insertInto('invoice_lines')
      .values({ invoice_id: invoice.id, order_line_id: null, product_id: null, description: `imported invoice ${externalRef}`, quantity: 1, unit_price_minor: amount, net_minor: amount, tax_rate_bp: 0, tax_minor: 0, total_minor: amount })
      .returningAll()
      .executeTakeFirstOrThrow();
    await syncExposure(trx, { invoices: [invoice.id] });
    return { result: invoice.id, events: [{ type: 'invoice.imported', aggregate: 'invoice', id: invoice.id, after: { invoices: [invoice], invoice_lines: [line] } }] };
  });
  const [b] = await invoiceBalances(db, { invoiceIds: [id] });
  return { ...toInvoice(b!), created: true };
}
