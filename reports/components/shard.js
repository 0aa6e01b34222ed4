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

// The whole customer list for the customer page's search, in SEARCH_PARTS files split by the
// same hash (data/customer-search.zip.ts): the page opens with the customers of the largest
// balances only (data/customer-index.arrows) and loads the list when a search is typed, or
// one part for a customer opened by a link, so no file grows with the number of customers
// beyond a few kB a hundred customers.
export const SEARCH_PARTS = 16;

/**
 * @param {string} customerId
 * @returns {number} 0 … SEARCH_PARTS − 1
 */
export function searchPartOf(customerId) {
  return partOf(customerId) % SEARCH_PARTS;
}
