// The aging buckets, youngest first, and which file of the open items holds a bucket: the
// loader (data/open-items.zip.ts) and the pages (Aging, Collections) split by the same rule, so
// a bucket's invoices load on their own and no file grows past the limit with the whole book.
export const BUCKETS = ["current", "1-30", "31-60", "61-90", "91-120", "120+"];

/**
 * @param {string} bucket
 * @returns {number} the index of the bucket's file (open-items/bucket-N.arrows), or −1 for an unknown bucket
 */
export function bucketFile(bucket) {
  return BUCKETS.indexOf(bucket);
}
