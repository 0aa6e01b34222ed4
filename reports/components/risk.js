// The one risk-class scale: A (good, green) to E (bad, red); a customer without a score is grey
// and called "not scored", never "null".
export const RISK_CLASSES = ["A", "B", "C", "D", "E"];
export const RISK_COLORS = ["#1a9850", "#91cf60", "#e6c229", "#fc8d59", "#d73027"];
export const NOT_SCORED = "not scored";

/** The class of a row for colouring. @type {(v: unknown) => string} */
export const riskOf = (v) => (typeof v === "string" && RISK_CLASSES.includes(v) ? v : NOT_SCORED);

/**
 * Plot's colour option for risk classes: always A…E in the same colours; "not scored" added
 * only when some row has no class.
 * @param {readonly Record<string, unknown>[]} rows
 * @param {string} [field]
 */
export function riskColor(rows, field = "risk_class") {
  const unscored = rows.some((r) => riskOf(r[field]) === NOT_SCORED);
  return {
    type: "ordinal",
    domain: unscored ? [...RISK_CLASSES, NOT_SCORED] : RISK_CLASSES,
    range: unscored ? [...RISK_COLORS, "#aaaaaa"] : RISK_COLORS,
    legend: true,
    label: "risk class (A best, E worst)"
  };
}
