// The invoices the payment-date hazard model reads, as columns. Its own module so that the
// feature query (features.ts) can fill them and the model (hazard.ts) fit them without the two
// importing each other.

/** Settlement day of an invoice still open. */
export const OPEN = 2 ** 31 - 1;

/**
 * The invoices a fit reads, as columns: day numbers, amounts and flags in typed arrays and one
 * customer index per invoice — a million invoices are a few dozen megabytes, read once, and the
 * fit and its earlier-origin refits never parse a date or look up a customer by its key.
 */
export interface HazardColumns {
  n: number;
  customerKeys: string[];
  customer: Int32Array;
  /** Days since 1970-01-01. */
  issued: Int32Array;
  due: Int32Array;
  /** Payment day of a paid invoice (`counted`), else the day it was settled without being paid (written off, credited), or `OPEN` while unsettled. */
  settled: Int32Array;
  /** 1 when the invoice was paid (it has days to pay); 0 for one settled without a payment, which the fit counts as open until its settlement day (censored there). */
  counted: Uint8Array;
  amount: Float64Array;
  terms: Int32Array;
  disputed: Uint8Array;
  electronic: Uint8Array;
  /** log(1 + the customer's overdue balance in major units) when the invoice was issued. */
  overdue: Float64Array;
}

/** Columns of `n` invoices, to be filled. */
export function emptyColumns(n: number): HazardColumns {
  return {
    n, customerKeys: [], customer: new Int32Array(n), issued: new Int32Array(n), due: new Int32Array(n), settled: new Int32Array(n).fill(OPEN), counted: new Uint8Array(n),
    amount: new Float64Array(n), terms: new Int32Array(n), disputed: new Uint8Array(n), electronic: new Uint8Array(n), overdue: new Float64Array(n),
  };
}
