// KPI cards and empty-state cards.
import {date, toNumber} from "./format.js";

/**
 * The change of a measure since an earlier date, coloured by the measure's direction:
 * "▲ from 2,213,544.40 EUR at 31 Oct 2026", green when the change is good, red when bad.
 * @param {{now: number | null | undefined, before: number | null | undefined, at: string, format: (v: number) => string, better: "up" | "down" | null}} c
 *   better: the direction in which the measure improves (DSO: down; CEI: up; null: neither)
 * @returns {HTMLSpanElement | null}
 */
export function change({now, before, at, format, better}) {
  const a = toNumber(now);
  const b = toNumber(before);
  if (a == null || b == null) return null;
  const span = document.createElement("span");
  const same = format(a) === format(b);
  const up = a > b;
  span.className = `change ${same || !better ? "neutral" : (up === (better === "up")) ? "good" : "bad"}`;
  span.textContent = `${same ? "=" : up ? "▲" : "▼"} from ${format(b)} at ${date(at)}`;
  if (!same && better) span.title = up === (better === "up") ? "better than before" : "worse than before";
  return span;
}

/**
 * A KPI card: title, big value, a note (text or a node, such as a change) and a link to the measure's definition.
 * @param {{title: string, value: string, note?: string | Node | null, definition?: string}} card
 * @returns {HTMLDivElement}
 */
export function kpiCard({title, value, note, definition}) {
  const card = document.createElement("div");
  card.className = "card kpi";
  const h = document.createElement("h2");
  h.textContent = title;
  if (definition) {
    const a = document.createElement("a");
    a.href = `./definitions#${definition}`;
    a.textContent = " ?";
    a.title = "definition";
    h.append(a);
  }
  const v = document.createElement("span");
  v.className = "big";
  v.textContent = value;
  const n = document.createElement("div");
  n.className = "sub";
  if (note instanceof Node) n.append(note);
  else n.textContent = note ?? "";
  card.append(h, v, n);
  return card;
}

// An empty-state card for data that does not exist yet (a forecast not run, say).
/**
 * @param {string} title
 * @param {string} message
 * @returns {HTMLDivElement}
 */
export function emptyCard(title, message) {
  const card = document.createElement("div");
  card.className = "card empty";
  const h = document.createElement("h2");
  h.textContent = title;
  const p = document.createElement("p");
  p.textContent = message;
  card.append(h, p);
  return card;
}
