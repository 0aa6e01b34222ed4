import type { Core } from '../core.ts';
import { getSettings } from '../settings/settings.service.ts';
import { paymentReference } from '../bank/reference.ts';
import { groupedIban } from './format.ts';

/**
 * The "how to pay" block of invoices, statements and portal pages: the account to pay into
 * (company settings `company.bank_name`, `company.iban`, `company.bic`), the reference to
 * quote — the one the bank import matches on — and the company's own instructions. Bank
 * details that are not set are left out, never printed empty.
 */
export interface HowToPay {
  payee: string;
  bankName: string | null;
  /** Grouped in fours, as printed. */
  iban: string | null;
  bic: string | null;
  /** The reference to quote, or null for a statement (quote each invoice's number). */
  reference: string | null;
  instructions: string;
  email: string;
}

export async function howToPay(core: Core, invoice?: { number: string }): Promise<HowToPay> {
  const s = await getSettings(core.db.kysely);
  return {
    payee: s['company.name'],
    bankName: s['company.bank_name'] || null,
    iban: s['company.iban'] ? groupedIban(s['company.iban']) : null,
    bic: s['company.bic'] || null,
    reference: invoice ? paymentReference(invoice) : null,
    instructions: s['company.payment_instructions'],
    email: s['company.email'],
  };
}
