import path from 'node:path';
import { DomainError, invalid } from '../shared/errors.ts';
import { columnPositions, type FileMapping } from '../extract/mapping.ts';
import { openSource, rowValues } from '../extract/source.ts';
import { RowFields } from '../extract/fields.ts';
import { normaliseIban, type EntryProblem, type BankStatementEntry } from './bank-statement.ts';

/**
 * Canonical columns of a CSV bank statement (a mapping renames the bank's own):
 * entry_ref*, booking_date*, amount* (negative = debit, unless `direction` says),
 * currency, direction (credit/debit, CRDT/DBIT, C/D, H/S), value_date, payer_name,
 * payer_iban, remittance, end_to_end_id, return_reason, statement_id (else the mapping's
 * constant, else the file name).
 */
export const BANK_CSV_COLUMNS = ['statement_id', 'entry_ref', 'booking_date', 'value_date', 'amount', 'currency', 'direction', 'payer_name', 'payer_iban', 'remittance', 'end_to_end_id', 'return_reason'] as const;
const REQUIRED = ['entry_ref', 'booking_date', 'amount'];

const CREDIT = new Set(['credit', 'crdt', 'c', 'cr', 'h', 'haben']);
const DEBIT = new Set(['debit', 'dbit', 'd', 'dr', 's', 'soll']);

export async function parseCsvBankStatement(file: string, given: FileMapping, defaultCurrency: string): Promise<BankStatementEntry[]> {
  const source = await openSource(file, given);
  const mapping: FileMapping = { ...given, delimiter: source.delimiter ?? undefined };
  try {
    const positions = columnPositions(source.header, mapping);
    const missing = REQUIRED.filter((c) => !positions.has(c) && !(c in (mapping.constants ?? {})));
    if (missing.length) throw invalid(`${path.basename(file)}: required column ${missing.join(', ')} missing (header: ${source.header.join(', ')})`, { field: missing[0], rule: 'column_required' });
    const entries: BankStatementEntry[] = [];
    const problems: EntryProblem[] = [];
    const seen = new Set<string>();
    for await (const row of source.rows()) {
      const values = rowValues(positions, mapping, row);
      const f = new RowFields(values, mapping, row);
      const where = `row ${row.row} (line ${row.line})`;
      const statementId = f.text('statement_id', { max: 100 }) ?? path.basename(file, path.extname(file));
      const entryRef = f.text('entry_ref', { required: true, max: 100 });
      const bookingDate = f.date('booking_date', { required: true });
      const valueDate = f.date('value_date');
      const currency = f.currency('currency', defaultCurrency);
      let amountRaw = f.raw('amount');
      const negative = amountRaw.startsWith('-');
      if (negative) amountRaw = amountRaw.slice(1);
      f.values.amount = amountRaw;
      const amountMinor = currency ? f.amount('amount', currency, { required: true, sign: 'positive' }) : null;
      const dirWord = f.raw('direction').toLowerCase();
      let direction: 'credit' | 'debit' = negative ? 'debit' : 'credit';
      if (dirWord) {
        if (CREDIT.has(dirWord)) direction = negative ? 'debit' : 'credit';
        else if (DEBIT.has(dirWord)) direction = 'debit';
        else f.problem('direction', dirWord, 'one_of', `direction ${JSON.stringify(dirWord)} is neither credit nor debit`);
      }
      if (entryRef && seen.has(`${statementId}/${entryRef}`)) f.problem('entry_ref', entryRef, 'duplicate_id', `entry_ref ${entryRef} appears more than once in statement ${statementId}`);
      if (entryRef) seen.add(`${statementId}/${entryRef}`);
      // Every field is read before the row's problems are counted: one that breaks a rule
      // (too long, a control character) is reported, not dropped from the entry.
      const remittance = f.text('remittance', { max: 500 });
      const payerName = f.text('payer_name');
      const payerIban = normaliseIban(f.text('payer_iban', { max: 40 }));
      const endToEndId = f.text('end_to_end_id', { max: 100 });
      const returnReason = f.text('return_reason', { max: 200 });
      for (const p of f.problems) problems.push({ where, field: p.field, value: p.value, rule: p.rule, message: p.message });
      if (f.problems.length || !entryRef || !bookingDate || !currency || amountMinor === null) continue;
      entries.push({
        statementId, entryRef, accountIban: null, direction, amountMinor, currency, bookingDate, valueDate,
        payerName, payerIban,
        structuredRefs: [], unstructured: remittance ? [remittance] : [],
        endToEndId, returnReason, where,
      });
    }
    if (problems.length) {
      throw new DomainError('invalid', `${path.basename(file)}: ${problems.length} problem${problems.length > 1 ? 's' : ''} in the statement; nothing was written`, { field: problems[0]!.field, value: problems[0]!.value, rule: problems[0]!.rule }, problems.map((p) => ({ entity: 'bank_entry', id: p.where, field: p.field, value: p.value, rule: p.rule, message: p.message })));
    }
    return entries;
  } finally {
    await source.close();
  }
}
