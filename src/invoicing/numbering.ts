import type { Tx } from '../core.ts';
import { prepared } from '../db/prepared.ts';

const nextValue = prepared((db, _d, kind: 'INV' | 'CN', year: number) =>
  db
    .insertInto('document_sequences')
    .values({ kind, year, last_value: 1 })
    .onConflict((oc) => oc.columns(['kind', 'year']).doUpdateSet((eb) => ({ last_value: eb('document_sequences.last_value', '+', 1) })))
    .returning('last_value'),
);

/**
 * Gapless document numbers per kind and year: `INV-2026-000001`, `CN-2026-000001`.
 * The counter row is incremented inside the document's own transaction (an upsert that
 * locks the row on PostgreSQL), so a rolled-back document gives its number back and two
 * concurrent documents never share one.
 */
export async function nextDocumentNumber(trx: Tx, kind: 'INV' | 'CN', year: number): Promise<string> {
  const row = await nextValue.one(trx, kind, year);
  return formatDocumentNumber(kind, year, Number(row.last_value));
}

export function formatDocumentNumber(kind: string, year: number, n: number): string {
  return `${kind}-${year}-${String(n).padStart(6, '0')}`;
}
