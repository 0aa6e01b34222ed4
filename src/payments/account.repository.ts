import type { Kysely } from 'kysely';
import type { CreditNoteKind, Database } from '../db/schema.ts';

/**
 * What a customer's statement lines do not carry and their labels need: each invoice's due
 * date and order, the kind of each
 * credit note (a return, a dispute settled, an early-payment discount…), of each write-off
 * (a small remainder or a bad debt), and each payment's method and remittance reference.
 */
export interface StatementDocumentDetails {
  invoices: Map<string, { dueDate: string; orderId: number | null }>;
  creditNotes: Map<string, { kind: CreditNoteKind; reason: string }>;
  /** Keyed `invoice number|date`: the statement names a write-off by its invoice and day. */
  writeOffs: Map<string, { kind: 'small_balance' | 'bad_debt'; reason: string }>;
  payments: Map<number, { method: string; reference: string | null; payer: string | null }>;
}

export async function statementDocumentDetails(db: Kysely<Database>, customerId: number): Promise<StatementDocumentDetails> {
  const invoices = await db.selectFrom('invoices').select(['number', 'due_date', 'order_id']).where('customer_id', '=', customerId).execute();
  const notes = await db.selectFrom('credit_notes').select(['number', 'kind', 'reason']).where('customer_id', '=', customerId).execute();
  const writeOffs = await db
    .selectFrom('write_offs as w')
    .innerJoin('invoices as i', 'i.id', 'w.invoice_id')
    .select(['i.number', 'w.write_off_date', 'w.kind', 'w.reason'])
    .where('i.customer_id', '=', customerId)
    .execute();
  const payments = await db.selectFrom('payments').select(['id', 'method', 'bank_reference', 'payer']).where('customer_id', '=', customerId).execute();
  return {
    invoices: new Map(invoices.map((i) => [i.number, { dueDate: i.due_date, orderId: i.order_id }])),
    creditNotes: new Map(notes.map((n) => [n.number, { kind: n.kind, reason: n.reason }])),
    writeOffs: new Map(writeOffs.map((w) => [`${w.number}|${w.write_off_date}`, { kind: w.kind, reason: w.reason }])),
    payments: new Map(payments.map((p) => [p.id, { method: p.method, reference: p.bank_reference, payer: p.payer }])),
  };
}
