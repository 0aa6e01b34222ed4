/**
 * The payment reference a customer is asked to quote, so that the payment finds its invoice
 * by itself: the invoice number. The bank import reads any word of a statement entry's
 * remittance information that is an invoice number (`invoicesNamedIn`), and cash application
 * pays the invoices a receipt's reference names first (`referencedInvoices`); both read the
 * number as it is printed, in any letter case.
 *
 * @example paymentReference({ number: 'INV-2026-000123' }) // "INV-2026-000123"
 */
export function paymentReference(invoice: { number: string }): string {
  return invoice.number;
}

/** What to quote when paying several invoices at once: their numbers, separated by spaces. */
export function paymentReferenceOfMany(invoices: { number: string }[]): string {
  return invoices.map(paymentReference).join(' ');
}
