// A KPI card: title, big value, a note (as-of date, trend) and a link to the measure's definition.
/**
 * @param {{title: string, value: string, note?: string | null, definition?: string}} card
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
  n.textContent = note ?? "";
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
