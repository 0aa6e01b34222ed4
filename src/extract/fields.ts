import { DomainError } from '../shared/errors.ts';
import { isFreeTextField, textProblem } from '../shared/validate.ts';
import { decimalSeparatorOf, type FileMapping } from './mapping.ts';
import { DEFAULT_DATE_FORMAT, normaliseDecimal, parseBoolean, parseDate, parseExtractAmount } from './values.ts';
import type { SourceRow } from './source.ts';

/** One reason a row was rejected: which row, which field, what value, which rule. */
export interface RowProblem {
  row: number;
  line: number;
  field: string;
  value: string;
  rule: string;
  message: string;
}

/**
 * Reads the canonical fields of one row and collects every problem instead of stopping at
 * the first, so the report names all that is wrong with a row at once.
 */
export class RowFields {
  readonly problems: RowProblem[] = [];
  constructor(
    readonly values: Record<string, string>,
    readonly mapping: FileMapping,
    readonly source: SourceRow,
  ) {}

  problem(field: string, value: string, rule: string, message: string): void {
    this.problems.push({ row: this.source.row, line: this.source.line, field, value, rule, message: `row ${this.source.row} (line ${this.source.line}): ${message}` });
  }

  raw(name: string): string {
    return (this.values[name] ?? '').trim();
  }

  text(name: string, options: { required?: boolean; max?: number } = {}): string | null {
    const v = this.raw(name);
    if (v === '') {
      if (options.required) this.problem(name, v, 'required', `${name} is required`);
      return null;
    }
    if (v.length > (options.max ?? 200)) {
      this.problem(name, v, 'max_length', `${name} must be at most ${options.max ?? 200} characters`);
      return null;
    }
    const bad = textProblem(v, isFreeTextField(name));
    if (bad) {
      this.problem(name, v, bad.rule, `${name} ${bad.message}`);
      return null;
    }
    return v;
  }

  date(name: string, options: { required?: boolean } = {}): string | null {
    const v = this.raw(name);
    if (v === '') {
      if (options.required) this.problem(name, v, 'required', `${name} is required`);
      return null;
    }
    const format = this.mapping.dateFormat ?? DEFAULT_DATE_FORMAT;
    const d = parseDate(v, format);
    if (!d) this.problem(name, v, 'date_format', `${name} ${JSON.stringify(v)} is not a date written ${format}`);
    return d;
  }

  get decimalSeparator(): '.' | ',' {
    return decimalSeparatorOf(this.mapping);
  }

  /** An amount in minor units of `currency`; `sign` says which values are allowed. */
  amount(name: string, currency: string, options: { required?: boolean; sign: 'positive' | 'not_negative' }): number | null {
    const v = this.raw(name);
    if (v === '') {
      if (options.required) this.problem(name, v, 'required', `${name} is required`);
      return null;
    }
    const text = normaliseDecimal(v, this.decimalSeparator);
    if (text === null) {
      this.problem(name, v, 'amount_format', `${name} ${JSON.stringify(v)} is not a decimal amount (decimal separator "${this.decimalSeparator}")`);
      return null;
    }
    let minor: number;
    try {
      minor = parseExtractAmount(text, currency, name);
    } catch (e) {
      const d = e instanceof DomainError ? e : null;
      this.problem(name, v, d?.detail.rule ?? 'amount_format', d ? d.message : String(e));
      return null;
    }
    if (options.sign === 'positive' && minor === 0) {
      this.problem(name, v, 'amount_positive', `${name} must be above zero`);
      return null;
    }
    return minor;
  }

  int(name: string, min: number, max: number): number | null {
    const v = this.raw(name);
    if (v === '') return null;
    if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      this.problem(name, v, 'integer_range', `${name} ${JSON.stringify(v)} must be a whole number from ${min} to ${max}`);
      return null;
    }
    return Number(v);
  }

  bool(name: string): boolean | null {
    const v = this.raw(name);
    if (v === '') return null;
    const b = parseBoolean(v, this.mapping);
    if (b === null) this.problem(name, v, 'boolean', `${name} ${JSON.stringify(v)} is not one of the words for true or false`);
    return b;
  }

  currency(name: string, fallback: string): string | null {
    const v = this.raw(name).toUpperCase();
    if (v === '') return fallback;
    if (!/^[A-Z]{3}$/.test(v)) {
      this.problem(name, this.raw(name), 'currency_code', `${name} ${JSON.stringify(this.raw(name))} is not a three-letter ISO 4217 code`);
      return null;
    }
    return v;
  }
}
