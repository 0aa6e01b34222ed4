/**
 * What a bank statement says, whatever its format: one `BankStatementEntry` per booked
 * transaction. camt053.ts and csv-bank-statement.ts produce these; bank.service.ts books them.
 */
export interface BankStatementEntry {
  statementId: string;
  /** The bank's reference of the entry, unique within the statement. */
  entryRef: string;
  accountIban: string | null;
  direction: 'credit' | 'debit';
  amountMinor: number;
  currency: string;
  bookingDate: string;
  valueDate: string | null;
  payerName: string | null;
  payerIban: string | null;
  /** Structured creditor references (`RmtInf/Strd/CdtrRefInf/Ref`), strongest evidence first. */
  structuredRefs: string[];
  /** Unstructured remittance lines (`RmtInf/Ustrd`). */
  unstructured: string[];
  endToEndId: string | null;
  /** Return reason code (`RtrInf/Rsn/Cd`, e.g. AC04, MD06) with its text; set on returned debits. */
  returnReason: string | null;
  /** Where in the file: `statement 1 entry 3` or `row 4 (line 5)`, for error messages. */
  where: string;
}

/** A problem with one entry of a statement file: where, which field, which rule. */
export interface EntryProblem {
  where: string;
  field: string;
  value: string;
  rule: string;
  message: string;
}

export const entryKey = (e: Pick<BankStatementEntry, 'statementId' | 'entryRef'>): string => `${e.statementId}/${e.entryRef}`;

/** The remittance text as one line (structured refs first), as it is stored and shown. */
export function remittanceText(e: Pick<BankStatementEntry, 'structuredRefs' | 'unstructured'>): string | null {
  const parts = [...e.structuredRefs, ...e.unstructured].map((s) => s.trim()).filter(Boolean);
  return parts.length ? parts.join(' ').slice(0, 500) : null;
}

export const normaliseIban = (iban: string | null | undefined): string | null => (iban ? iban.replace(/\s+/g, '').toUpperCase() : null);
