// Which part of the customer drill-down files holds a customer: the loader
// (data/customer-detail.zip.ts) and the customer page split by the same rule.
// 64 parts keep each file a few hundred kB at 5,000 customers with two years of invoices.
export const PARTS = 64;

/**
 * @param {string} customerId
 * @returns {number} 0 … PARTS − 1
 */
export function partOf(customerId) {
  let h = 0;
  for (let i = 0; i < customerId.length; i++) h = (Math.imul(h, 31) + customerId.charCodeAt(i)) >>> 0;
  return h % PARTS;
}
