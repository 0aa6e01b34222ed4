/**
 * Reconciliation: the sales forecasts of one currency made to add up — products and the
 * rest of their category to the category, the categories (and the sales without order
 * lines) to the total, the segments to the total — for every month.
 *
 * Method: MinT with a diagonal covariance ("WLS, variance scaling"; Wickramasuriya,
 * Athanasopoulos & Hyndman 2019; Hyndman & Athanasopoulos FPP3 §11.3), written with the
 * constraints rather than a summing matrix so that the two groupings of the total (by
 * category and product, by segment) are reconciled together:
 *
 *   ỹ = ŷ − W Cᵀ (C W Cᵀ)⁻¹ C ŷ
 *
 * ŷ the base forecasts of every node, C one row per sum (aggregate − its parts = 0), W the
 * diagonal of each node's forecast error variance (its replayed mean squared error). Each
 * sum's gap is shared out in proportion to the nodes' error variances: a noisy forecast
 * gives way, a reliable one barely moves. Why not bottom-up: products are the noisiest
 * series (their forecasts barely beat seasonal naive) and the total the most reliable, so
 * summing products would throw away the best forecast; why not plain OLS (W = I): the
 * nodes' errors differ by orders of magnitude in cents, and OLS would move a small
 * product by as many cents as the total. The full MinT covariance needs more errors per
 * node than two or three years of monthly history give.
 *
 * Integer cents, exact sums: the leaves (products, each category's remainder, the
 * remainder of the total) are rounded and kept at zero or above, the categories and the
 * total are their sums, and the segments are rounded to add up to that total (largest
 * remainders; segments below zero set to zero first, the others scaled).
 */
export interface ReconcileInput {
  total: Node;
  /** Sales without order lines (in the total and segments, in no category). */
  unassigned: Node | null;
  categories: { node: Node; products: Node[]; rest: Node | null }[];
  segments: Node[];
}

export interface Node {
  /** Base forecast per month (cents, not rounded). */
  forecast: number[];
  /** Error variance of the forecast (cents²), > 0. */
  variance: number;
}

export interface Reconciled {
  total: number[];
  unassigned: number[] | null;
  categories: { node: number[]; products: number[][]; rest: number[] | null }[];
  segments: number[][];
}

export function reconcile(input: ReconcileInput): Reconciled {
  // Node order: total, unassigned?, per category (category, products…, rest?), segments…
  const nodes: Node[] = [input.total];
  const at = (n: Node) => nodes.push(n) - 1;
  const iTotal = 0;
  const iUnassigned = input.unassigned ? at(input.unassigned) : -1;
  const cats = input.categories.map((c) => ({ i: at(c.node), products: c.products.map(at), rest: c.rest ? at(c.rest) : -1 }));
  const segs = input.segments.map(at);
  const constraints: { plus: number; minus: number[] }[] = [];
  for (const c of cats) if (c.products.length > 0 || c.rest >= 0) constraints.push({ plus: c.i, minus: [...c.products, ...(c.rest >= 0 ? [c.rest] : [])] });
  if (cats.length > 0) constraints.push({ plus: iTotal, minus: [...cats.map((c) => c.i), ...(iUnassigned >= 0 ? [iUnassigned] : [])] });
  if (segs.length > 0) constraints.push({ plus: iTotal, minus: segs });
  const months = input.total.forecast.length;
  const w = nodes.map((n) => (n.variance > 0 && Number.isFinite(n.variance) ? n.variance : 1));
  const k = constraints.length;
  // C W Cᵀ does not depend on the month.
  const cwc = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const coef = constraints.map((c) => {
    const m = new Map<number, number>([[c.plus, 1]]);
    for (const j of c.minus) m.set(j, (m.get(j) ?? 0) - 1);
    return m;
  });
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) for (const [j, v] of coef[a]!) cwc[a]![b]! += v * w[j]! * (coef[b]!.get(j) ?? 0);
  const out = nodes.map((n) => [...n.forecast]);
  for (let t = 0; t < months && k > 0; t++) {
    const gaps = coef.map((m) => [...m].reduce((s, [j, v]) => s + v * nodes[j]!.forecast[t]!, 0));
    const lambda = solve(cwc, gaps);
    for (let a = 0; a < k; a++) for (const [j, v] of coef[a]!) out[j]![t]! -= w[j]! * v * lambda[a]!;
  }
  return toCents(out, iTotal, iUnassigned, cats, segs, months);
}

function toCents(out: number[][], iTotal: number, iUnassigned: number, cats: { i: number; products: number[]; rest: number }[], segs: number[], months: number): Reconciled {
  const leaf = (j: number) => out[j]!.map((v) => Math.max(0, Math.round(v)));
  const categories = cats.map((c) => {
    const products = c.products.map(leaf);
    const rest = c.rest >= 0 ? leaf(c.rest) : null;
    const node = c.products.length > 0 || rest ? Array.from({ length: months }, (_, t) => products.reduce((s, p) => s + p[t]!, 0) + (rest?.[t] ?? 0)) : leaf(c.i);
    return { node, products, rest };
  });
  const unassigned = iUnassigned >= 0 ? leaf(iUnassigned) : null;
  const total = categories.length > 0 ? Array.from({ length: months }, (_, t) => categories.reduce((s, c) => s + c.node[t]!, 0) + (unassigned?.[t] ?? 0)) : leaf(iTotal);
  const segments = segs.map(() => new Array<number>(months).fill(0));
  for (let t = 0; t < months; t++) {
    const parts = shareOut(total[t]!, segs.map((j) => out[j]![t]!));
    parts.forEach((v, s) => (segments[s]![t] = v));
  }
  return { total, unassigned, categories, segments };
}

/**
 * `total` (integer ≥ 0) split into integers proportional to `parts` (negative parts count as
 * 0; all zero: equal shares), adding up exactly: floors, then the largest remainders get a
 * cent each. `shareOut(10, [1, 1, 1])` → `[4, 3, 3]`.
 */
export function shareOut(total: number, parts: number[]): number[] {
  if (parts.length === 0) return [];
  const pos = parts.map((p) => (p > 0 && Number.isFinite(p) ? p : 0));
  const sum = pos.reduce((a, b) => a + b, 0);
  const raw = pos.map((p) => (sum > 0 ? (total * p) / sum : total / parts.length));
  const floors = raw.map(Math.floor);
  let left = total - floors.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => ({ i, frac: r - floors[i]! })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i]!++;
    left--;
  }
  return floors;
}

/** Solves A x = b (A symmetric positive definite, small) by Gaussian elimination with partial pivoting. */
export function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const piv = m[c]![c]!;
    if (Math.abs(piv) < 1e-300) throw new Error('reconciliation constraints are not independent');
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / piv;
      if (f !== 0) for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}
