// Links from a chart or a table to the rows behind it: a customer opens on the customer page.

/** The customer page of a customer. @type {(id: string) => string} */
export const customerHref = (id) => `./customer.html?id=${encodeURIComponent(id)}`;

/**
 * A table cell format (Inputs.table calls it with the value, the row's index and the rows)
 * that shows a customer's name as a link to its page; the rows carry customer_id.
 * @param {string} name
 * @param {number} i
 * @param {ArrayLike<Record<string, any>>} rows
 * @returns {HTMLAnchorElement | string}
 */
export function customerLink(name, i, rows) {
  const id = rows[i]?.customer_id;
  if (!id) return name ?? "–";
  const a = document.createElement("a");
  a.href = customerHref(id);
  a.textContent = name ?? id;
  return a;
}
