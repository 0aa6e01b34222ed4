// @observablehq/inputs ships no types; the components use its table only.
declare module '@observablehq/inputs' {
  export function table(data: readonly object[], options?: Record<string, unknown>): HTMLElement;
}
