// CSV of a table's rows for download, by the same rule as the project's one CSV writer
// (src/shared/csv.ts): RFC 4180, `"` quoting only where a cell needs it, `\n` after every
// line, and a text cell that a spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`,
// tab, carriage return, or their full-width forms) prefixed with an apostrophe. A plain number,
// given as a number or as text such as "-12.50", stays a number.

const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const FORMULA = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * One cell as CSV text.
 * @param {unknown} v
 * @returns {string}
 */
export function csvCell(v) {
  /** @type {string} */
  let s;
  if (v == null) return "";
  if (typeof v === "number" || typeof v === "bigint") s = String(v);
  else if (typeof v === "boolean") s = String(v);
  else if (v instanceof Date) s = v.toISOString();
  else if (typeof v === "object") s = JSON.stringify(v);
  else {
    s = String(v);
    if (!PLAIN_NUMBER.test(s) && FORMULA.test(s)) s = `'${s}`;
  }
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A header line, then one line per row with the values of `columns` in that order.
 * @param {readonly string[]} header
 * @param {readonly string[]} columns
 * @param {readonly Record<string, unknown>[]} rows
 * @returns {string}
 */
export function toCsv(header, columns, rows) {
  const lines = [header.map(csvCell).join(",")];
  for (const r of rows) lines.push(columns.map((c) => csvCell(r[c])).join(","));
  return `${lines.join("\n")}\n`;
}

/**
 * A "Download CSV" button that saves `rows` (their raw values: plain numbers, ISO dates) as a file.
 * @param {string} filename without ".csv"
 * @param {readonly string[]} header
 * @param {readonly string[]} columns
 * @param {readonly Record<string, unknown>[]} rows
 * @returns {HTMLButtonElement}
 */
export function csvButton(filename, header, columns, rows) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "download";
  button.textContent = "Download CSV";
  button.title = `${rows.length} rows as ${filename}.csv`;
  button.onclick = () => {
    const url = URL.createObjectURL(new Blob([toCsv(header, columns, rows)], {type: "text/csv;charset=utf-8"}));
    const a = document.createElement("a");
    a.href = url;
    a.download = `${filename}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return button;
}
