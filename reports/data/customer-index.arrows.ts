import { tableToIPC } from 'apache-arrow';
import { customerList, customerListTable, TOP } from './customer-list.ts';
import { output } from './snapshot.ts';

/**
 * The customers the customer page opens with: the TOP with the largest open balances (id,
 * name, segment, risk class, balance; the rest of a customer's figures are in its part of
 * customer-detail.zip), with the as-of date, the currency and how many customers there are in
 * all in the schema's metadata, as an Arrow stream (.arrows: Framework leaves the extension
 * alone, so nothing asks a CDN for apache-arrow; the page imports it from node_modules). Every
 * customer is in customer-search.zip, loaded when a search is typed, so this file stays the
 * same size at any number of customers.
 */
const { rows, meta } = await customerList({ top: TOP });
output(tableToIPC(customerListTable(rows, meta), 'stream'));
