import { tableToIPC } from 'apache-arrow';
import { SEARCH_PARTS, searchPartOf } from '../components/shard.js';
import { emitMembers } from './arrow-files.ts';
import { customerList, customerListTable } from './customer-list.ts';
import type { Row } from './snapshot.ts';

/**
 * Every customer for the customer page's search, in SEARCH_PARTS Arrow files (`part-N.arrows`,
 * split by components/shard.js) with the columns and metadata of customer-index.arrows; the
 * page loads them when a search is typed, or the one part of a customer opened by a link.
 */
const { rows, meta } = await customerList({});
const parts: Row[][] = Array.from({ length: SEARCH_PARTS }, () => []);
for (const r of rows) parts[searchPartOf(String(r.customer_id))]!.push(r);
await emitMembers(new Map(parts.map((part, n) => [`part-${n}.arrows`, tableToIPC(customerListTable(part, meta), 'stream')])));
