/**
 * The largest values cashloop accepts, written once. Every parse at the edge (API, CLI,
 * import and bank files) refuses anything beyond them with an `invalid` error naming the
 * field, the value and the rule, and the services check what they compute from them, so
 * nothing larger is ever stored, summed or shown.
 */

/**
 * Largest amount in minor units: 10^13 − 1, i.e. 99,999,999,999.99 in a two-decimal
 * currency, 9,999,999,999.999 in a three-decimal one, 9,999,999,999,999 yen. It bounds each
 * amount typed in (price, credit limit, payment, credit note, dispute, promise, fee) and
 * each computed document total (an order line's gross and total, an order's, an invoice's).
 *
 * Why this figure: money travels through the core as JavaScript numbers, exact up to
 * 2^53 − 1 ≈ 9.007 × 10^15. With each document below 10^13, 900 documents at the maximum
 * still add up exactly, and a tax or discount rate (at most 100 %) applied to a line (in
 * BigInt) cannot carry it past 2 × 10^13. The sums the core keeps (a customer's exposure,
 * statement, aging; an invoice's payments and credits) cover far fewer documents of far
 * smaller size. PostgreSQL stores money as bigint and SQLite as 64-bit integers: both hold
 * it exactly.
 */
export const MAX_AMOUNT_MINOR = 9_999_999_999_999;

/**
 * Largest quantity of one line, receipt, adjustment or stock level: 10^9 − 1, which fits
 * PostgreSQL's `integer` (2^31 − 1) with room for a line's shipped + reserved quantities.
 */
export const MAX_QUANTITY = 999_999_999;

/**
 * Largest id (and `after` cursor): ids are PostgreSQL `integer` columns (2^31 − 1). A
 * larger one cannot name a document, and must not reach the database, which would refuse
 * the comparison rather than find nothing.
 */
export const MAX_ID = 2_147_483_647;
