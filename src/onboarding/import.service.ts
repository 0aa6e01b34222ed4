import fs from 'node:fs';
import path from 'node:path';
import type { Core } from '../core.ts';
import { csvLines } from '../shared/csv.ts';
import { DomainError, invalid } from '../shared/errors.ts';
import { getSettings } from '../settings/settings.service.ts';
import { createCustomer } from '../customers/customer.service.ts';
import { CATCH_ALL_CUSTOMER, standInCustomerName } from '../extract/contract.ts';
import { canonicalHeader, columnPositions, loadMapping, type FileMapping } from '../extract/mapping.ts';
import { openSource, rowValues, type SourceRow } from '../extract/source.ts';
import { RowFields, type RowProblem } from '../extract/fields.ts';
import { ENTITIES, type DryRunMemory, type Entity, type ImportContext } from './entity.ts';
import { SPECS } from './entities.ts';
import { tieOut, type CustomerTieOut } from './tieout.ts';
import { IdSet } from './id-set.ts';

export interface ImportOptions {
  entity: Entity | string;
  file: string;
  /** Mapping file (JSON) for a non-canonical layout. */
  mapping?: string;
  dryRun?: boolean;
  /** Load the valid rows and write the rejected ones beside the input. */
  acceptValid?: boolean;
  actor: string;
  /** Called as the file streams: phase, units done, units in all (bytes or rows). */
  onProgress?: (phase: string, done: number, total: number) => void;
  /** A folder import: a file the mapping has no entry for is read as canonical. */
  mappingOptional?: boolean;
  /** Dry run over several files: carries what earlier files would create (see `dryRunMemory`). */
  dryRunMemory?: DryRunMemory;
}

function mappingFor(file: string, entity: Entity, input: string, optional: boolean): FileMapping {
  try {
    return loadMapping(file, entity, entity === 'orders' ? ['order_lines'] : [], input);
  } catch (e) {
    // A folder's mapping need not cover every file: files without an entry are canonical.
    if (optional && e instanceof DomainError && e.detail.rule === 'mapping_entity') return {};
    throw e;
  }
}

/** Memory for a dry run over a folder; close it when done. */
export function dryRunMemory(): DryRunMemory & { close(): void } {
  const invoices = new IdSet();
  return { customers: new Map(), products: new Map(), invoices, nextId: 0, close: () => invoices.close() };
}

export interface ImportReport {
  entity: Entity;
  file: string;
  format: 'csv' | 'parquet';
  dryRun: boolean;
  rowsRead: number;
  accepted: number;
  rejected: number;
  /** Accepted rows already in cashloop (nothing written for them). */
  unchanged: number;
  /** Accepted rows that repeat an earlier row exactly (same id, same values): counted once, loaded once. */
  repeated: number;
  /** Customer ids rows named that neither the customers file nor cashloop had: each got a stand-in customer. */
  standInCustomers: string[];
  /**
   * Accepted rows with a blank customer id, given to the catch-all customer (`UNKNOWN`,
   * docs/extract.md): how many and their amounts per currency; null when there are none.
   */
  catchAll: CatchAllReport | null;
  created: number;
  /** Sum of accepted rows' amounts, per currency, as decimals in minor units. */
  amounts: { currency: string; rows: number; amountMinor: number }[];
  problems: RowProblem[];
  rejectedFile: string | null;
  ignoredColumns: string[];
  /** Open receivables per customer of the file, as in the extract and as in cashloop. */
  tieOut: CustomerTieOut[] | null;
  tieOutAgrees: boolean | null;
}

export interface CatchAllReport {
  customer: string;
  name: string;
  rows: number;
  amounts: { currency: string; rows: number; amountMinor: number }[];
}

/** Most problems kept in the report and the error; the rejects file has every one. */
const MAX_PROBLEMS_IN_REPORT = 10_000;

export function isEntity(value: string): value is Entity {
  return (ENTITIES as readonly string[]).includes(value);
}

export function rejectedFileFor(file: string): string {
  const ext = path.extname(file);
  return path.join(path.dirname(file), `${path.basename(file, ext)}.rejected.csv`);
}

/**
 * Imports one canonical (or mapped) file: validates every row in a first streaming pass,
 * then — if nothing was rejected, or `acceptValid` — loads the valid rows through the core's
 * services in a second pass, and ties out the open receivables of the customers it touched.
 * Re-running the same file changes nothing: every row is keyed by its external id.
 */
export async function importFile(core: Core, options: ImportOptions): Promise<ImportReport> {
  if (!isEntity(options.entity)) throw invalid(`cannot import ${options.entity}: choose one of ${ENTITIES.join(', ')}`, { field: 'entity', value: options.entity, rule: 'one_of' });
  const entity = options.entity;
  const spec = SPECS[entity];
  const given = options.mapping ? mappingFor(options.mapping, entity, options.file, options.mappingOptional ?? false) : {};
  const source = await openSource(options.file, given);
  const contexts: ImportContext[] = [];
  const remember = (c: ImportContext) => (contexts.push(c), c);
  // Parquet carries typed values: its decimals are written with a dot whatever the mapping says.
  const mapping: FileMapping = source.format === 'parquet' ? { ...given, decimalSeparator: '.' } : { ...given, delimiter: source.delimiter ?? undefined };
  try {
    const positions = columnPositions(source.header, mapping);
    const constants = Object.keys(mapping.constants ?? {});
    const missing = spec.required.filter((c) => !positions.has(c) && !constants.includes(c));
    if (missing.length) {
      throw invalid(`file ${path.basename(options.file)}: required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing (header: ${source.header.join(', ')})`, {
        entity, field: missing[0], value: source.header.join(','), rule: 'column_required',
      });
    }
    const canonical = canonicalHeader(source.header, mapping);
    const dupes = canonical.filter((c, i) => canonical.indexOf(c) !== i && spec.columns.includes(c));
    if (dupes.length) throw invalid(`file ${path.basename(options.file)}: column ${dupes[0]} appears twice`, { entity, field: dupes[0], rule: 'column_unique' });
    const used = new Set([...positions].filter(([name]) => spec.columns.includes(name)).map(([, i]) => i));
    const ignoredColumns = source.header.filter((_, i) => !used.has(i));
    const settings = await getSettings(core.db.kysely);
    const pending = options.dryRun ? (options.dryRunMemory ?? null) : null;
    const standIns = new Map<string, string>();
    const newContext = (): ImportContext => remember({
      core, actor: options.actor, today: core.clock.now().toISOString().slice(0, 10), companyCurrency: settings['company.currency'],
      customers: pending?.customers ?? new Map(), seen: new IdSet(), seenRows: new IdSet(), covered: new Map(), group: null, products: pending?.products ?? new Map(), pending,
      standIns,
    });

    // Pass 1: validate every row, write nothing.
    const ctx = newContext();
    const report: ImportReport = {
      entity, file: options.file, format: source.format, dryRun: options.dryRun ?? false, rowsRead: 0, accepted: 0, rejected: 0, unchanged: 0, created: 0,
      amounts: [], problems: [], rejectedFile: null, ignoredColumns, tieOut: null, tieOutAgrees: null, repeated: 0, standInCustomers: [], catchAll: null,
    };
    const rejectedRows = new Set<number>();
    const amounts = new Map<string, { rows: number; amountMinor: number }>();
    const catchAll = new Map<string, { rows: number; amountMinor: number }>();
    const customers = new Set<number>();
    const rejectsPath = rejectedFileFor(options.file);
    let rejectsFd = null as number | null;
    const progress = (phase: string) => (done: number) => options.onProgress?.(phase, done, source.size);
    type Checked = { row: SourceRow; f: RowFields; checked: Awaited<ReturnType<typeof spec.check>> };
    const settle = (item: Checked) => {
      const { row, f, checked } = item;
      if (!checked || f.problems.length) {
        report.rejected += 1;
        rejectedRows.add(row.row);
        for (const p of f.problems) if (report.problems.length < MAX_PROBLEMS_IN_REPORT) report.problems.push(p);
        if (options.acceptValid && !options.dryRun) {
          if (rejectsFd === null) {
            rejectsFd = fs.openSync(rejectsPath, 'w');
            fs.writeSync(rejectsFd, csvLines([['row', 'line', 'field', 'rule', 'reason', ...source.header]]));
          }
          const why = [f.problems.map((p) => p.field).join(' | '), f.problems.map((p) => p.rule).join(' | '), f.problems.map((p) => p.message).join(' | ')];
          fs.writeSync(rejectsFd, csvLines([[row.row, row.line, ...why, ...row.raw]]));
        }
        return;
      }
      report.accepted += 1;
      if (checked.repeated) {
        report.repeated += 1;
        return;
      }
      if (checked.exists) report.unchanged += 1;
      if (pending) spec.remember?.(pending, checked.record);
      const a = spec.amount?.(checked.record);
      const add = (to: typeof amounts, currency: string, minor: number) => {
        const sum = to.get(currency) ?? { rows: 0, amountMinor: 0 };
        sum.rows += 1;
        sum.amountMinor += minor;
        to.set(currency, sum);
      };
      if (a) add(amounts, a.currency, a.minor);
      // Rows of the catch-all customer (a blank customer id) are counted apart, for the report.
      const billed = (checked.record as { customerId?: number }).customerId;
      if (billed !== undefined && billed === ctx.customers.get(CATCH_ALL_CUSTOMER.id)?.id) {
        const r = checked.record as { currency: string };
        add(catchAll, a?.currency ?? r.currency, a?.minor ?? 0);
      }
      const c = spec.customerOf?.(checked.record);
      if (c !== undefined) customers.add(c);
    };
    // Rows of one group (the lines of an order) stand or fall together: one bad line
    // rejects its order. Only the current group is held, never the file.
    let group: Checked[] = [];
    let groupKey: string | null = null;
    const flushGroup = () => {
      const bad = group.find((g) => !g.checked || g.f.problems.length);
      if (bad) {
        for (const g of group) {
          if (g.checked && !g.f.problems.length) g.f.problem(spec.groupBy!, groupKey ?? '', 'group_rejected', `${spec.groupBy} ${groupKey} is rejected with its row ${bad.row.row}`);
        }
      }
      group.forEach(settle);
      group = [];
    };
    for await (const row of source.rows(progress('validate'))) {
      report.rowsRead += 1;
      const values = rowValues(positions, mapping, row);
      const f = new RowFields(values, mapping, row);
      if (row.raw.length !== source.header.length) {
        f.problem('*', String(row.raw.length), 'field_count', `has ${row.raw.length} fields; the header has ${source.header.length}`);
      }
      const checked = f.problems.length ? null : await spec.check(f, ctx);
      if (!spec.groupBy) {
        settle({ row, f, checked });
        continue;
      }
      const key = (values[spec.groupBy] ?? '').trim();
      if (key !== groupKey) flushGroup();
      groupKey = key;
      group.push({ row, f, checked });
    }
    if (spec.groupBy) flushGroup();
    if (rejectsFd !== null) {
      fs.closeSync(rejectsFd);
      report.rejectedFile = rejectsPath;
    }
    report.standInCustomers = [...standIns.keys()].filter((id) => id !== CATCH_ALL_CUSTOMER.id);
    const byCurrency = (m: typeof amounts) => [...m].map(([currency, s]) => ({ currency, ...s })).sort((x, y) => x.currency.localeCompare(y.currency));
    report.amounts = byCurrency(amounts);
    if (catchAll.size) {
      const list = byCurrency(catchAll);
      report.catchAll = { customer: CATCH_ALL_CUSTOMER.id, name: CATCH_ALL_CUSTOMER.name, rows: list.reduce((n, c) => n + c.rows, 0), amounts: list };
    }
    if (report.rejected > 0 && !options.acceptValid) {
      throw new DomainError(
        'invalid',
        `${path.basename(options.file)}: ${report.rejected} of ${report.rowsRead} ${entity} rows rejected; nothing was written (fix them, or load the valid rows with --accept-valid)`,
        { entity, field: report.problems[0]?.field, value: report.problems[0]?.value, rule: report.problems[0]?.rule },
        report.problems.map((p) => ({ entity, id: `row ${p.row}`, field: p.field, value: p.value, rule: p.rule, message: p.message })),
      );
    }
    if (report.dryRun) {
      report.unchanged = 0;
      return report;
    }

    // Pass 2 (and 3): load the valid rows through the services.
    report.unchanged = 0;
    for (const [externalId, currency] of standIns) {
      const standIn = ctx.customers.get(externalId)?.id;
      const c = await createCustomer(core, { externalId, name: standInCustomerName(externalId), currency }, options.actor);
      ctx.customers.set(externalId, { id: c.id, currency: c.currency });
      // The tie-out names the customer as created, not the number it had while rows were checked.
      if (standIn !== undefined && customers.delete(standIn)) customers.add(c.id);
    }
    await spec.beforeLoad?.(ctx);
    for (let phase = 0; phase < spec.phases; phase += 1) {
      const loadCtx = { ...newContext(), customers: ctx.customers };
      const count = (outcome: string, n = 1) => {
        if (outcome === 'created') report.created += n;
        else if (outcome === 'unchanged') report.unchanged += n;
      };
      let pending: unknown[] = [];
      let pendingKey: string | null = null;
      const flush = async () => {
        if (pending.length) count(await spec.loadGroup!(loadCtx, pending), pending.length);
        pending = [];
      };
      for await (const row of source.rows(progress(spec.phases > 1 ? `load ${phase + 1}/${spec.phases}` : 'load'))) {
        if (rejectedRows.has(row.row)) continue;
        const values = rowValues(positions, mapping, row);
        const f = new RowFields(values, mapping, row);
        const checked = await spec.check(f, loadCtx);
        if (!checked) throw new Error(`row ${row.row} of ${options.file} changed between validation and load: ${f.problems.map((p) => p.message).join('; ')}`);
        if (checked.repeated) continue;
        if (spec.groupBy) {
          const key = (values[spec.groupBy] ?? '').trim();
          if (key !== pendingKey) await flush();
          pendingKey = key;
          pending.push(checked.record);
          continue;
        }
        count(await spec.load(loadCtx, checked.record, phase));
      }
      await flush();
    }
    if (spec.customerOf) {
      report.tieOut = await tieOut(core, customers);
      report.tieOutAgrees = report.tieOut.every((t) => t.agrees);
    }
    return report;
  } finally {
    for (const c of contexts) {
      c.seen.close();
      c.seenRows.close();
    }
    await source.close();
  }
}
