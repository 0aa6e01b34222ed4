/* global module */
// The order of cashloop's layers, written once as rules that `npm run lint:deps` (part of
// `npm test`) checks on every import, static, dynamic and type-only. docs/architecture.md
// draws the same picture in words; each top-level folder's README says its part of it.
//
// From the bottom up:
//   src/shared                      money, dates, clock, errors, validation: imports nothing of ours
//   src/db                          schema, migrations, connection                      → shared
//   src/events                      the event feed (audit trail, change feed)           → db, shared
//   src/core.ts                     runChange, lockCustomer: one transaction per change → events, db, shared
//   src/warehouse, src/extract      what the core's importers and the analytics share:
//                                   opening DuckDB files, running SQL on the warehouse,
//                                   the canonical extract                               → shared
//   business areas (src/<area>)     rules and services                                  → the layers above, each other
//   onboarding, bank, demo          feed the business areas from outside sources        → business areas and below
//   documents                       the customer's documents (PDFs, how to pay)         → areas, feeders and below
//   src/api, src/portal, src/cli    the faces: call services, never SQL or DuckDB
//   pipelines/                      the warehouse: reads the core through src/db and src/events only
//   models/, reports/               read the warehouse through src/warehouse; only pipelines/run.ts
//                                   calls their entry points (and the CLI the models' hand-backs)
//   scripts/, tests/                may import anything; nothing imports them
//
// Known exceptions: files that break a rule today and are to be mended. Each is listed here,
// with why, and nowhere else; the checker is strict for every other file.
const KNOWN_EXCEPTIONS = {
  duckdbInTheCore: [],
  // The API server mounts the portal's and the workspace's pages (src/api/portal.ts,
  // src/workspace/routes.ts), and the pages use the API's sign-in, CSRF, error and schema
  // modules (src/api/auth, problem.ts, routes/schemas.ts): the HTTP face in three folders that
  // depend on each other. To be removed when the HTTP plumbing they share gets a folder of its own.
  folderCycleOfTheHttpFace: '^src/(api|portal|workspace)(/|$)',
  // Faces that read a repository instead of a service (none today).
  facesReadingRepositories: [],
};

const AREAS = 'customers|catalog|orders|exposure|credit|shipping|invoicing|payments|collections|forecasts|settings|idempotency|users|notifications|rates';
const FEEDERS = 'onboarding|bank|demo';
const FACES = 'api|portal|workspace|cli';
// Packages are matched wherever node_modules is (a linked one resolves outside the tree).
const SQL_DRIVERS = '(^|/)node_modules/(kysely|pg|better-sqlite3)/';
const DUCKDB = '(^|/)node_modules/@duckdb/';
const either = (...patterns) => patterns.join('|');
// Benchmarks (`*.bench.ts`, run by `npm run bench:*`) are programs like scripts/: they may put
// a folder's code beside another's (an import beside the warehouse ingest), and nothing
// imports them. The layer rules below do not apply to them; the cycle rules do.
const BENCH = '[.]bench[.]ts$';
const PLACED = `shared|db|events|warehouse|extract|${AREAS}|${FEEDERS}|documents|${FACES}`;

const forbidden = [
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'Two modules that import each other (directly or round a loop) are one module in two files: split what both need into a third.',
    from: {},
    to: { circular: true },
  },
  {
    name: 'no-folder-cycle',
    severity: 'error',
    comment:
      'Folders depend one way: a folder (with everything under it) never depends on a folder that depends back on it. ' +
      'A module directly in src/ (core.ts) counts for src/ as a whole, which holds the faces: analytics never import it.',
    scope: 'folder',
    // Every folder of a loop reports it, so a loop that leaves the API and the portal is still found.
    from: { pathNot: KNOWN_EXCEPTIONS.folderCycleOfTheHttpFace },
    to: { circular: true },
  },
  {
    name: 'shared-imports-nothing-of-ours',
    severity: 'error',
    comment: 'src/shared is the floor every layer stands on: it imports only Node and npm packages.',
    from: { path: '^src/shared/' },
    to: { path: '^(src|pipelines|models|reports|scripts|bin|tests)/', pathNot: '^src/shared/' },
  },
  {
    name: 'db-below-the-core',
    severity: 'error',
    comment: 'The database layer (schema, migrations, connection) knows no business rule: it imports src/shared only.',
    from: { path: '^src/db/' },
    to: { path: '^(src|pipelines|models|reports|scripts|bin|tests)/', pathNot: '^src/(shared|db)/' },
  },
  {
    name: 'events-below-the-core',
    severity: 'error',
    comment: 'The event feed is read by the pipelines and written by core.ts: it imports src/db and src/shared only.',
    from: { path: '^src/events/' },
    to: { path: '^(src|pipelines|models|reports|scripts|bin|tests)/', pathNot: '^src/(shared|db|events)/' },
  },
  {
    name: 'core-ts-below-the-areas',
    severity: 'error',
    comment: 'runChange and lockCustomer serve every business area and know none of them.',
    from: { path: '^src/core[.]ts$' },
    to: { path: '^(src|pipelines|models|reports|scripts|bin|tests)/', pathNot: '^src/(shared|db|events)/' },
  },
  {
    name: 'shared-analytics-layers-stand-alone',
    severity: 'error',
    comment:
      'src/warehouse (DuckDB files, SQL helpers, warehouse paths, the sales series) and src/extract (the canonical extract) ' +
      'lie below the core areas, the pipelines, the models and the reports that share them: they import src/shared only.',
    from: { path: '^src/(warehouse|extract)/' },
    to: { path: '^(src|pipelines|models|reports|scripts|bin|tests)/', pathNot: '^src/(shared|warehouse|extract)/' },
  },
  {
    name: 'areas-below-the-faces',
    severity: 'error',
    comment: 'Business areas hold the rules; the API, the portal and the CLI call them, never the other way round.',
    from: { path: `^src/(${AREAS}|${FEEDERS}|documents)/` },
    to: { path: `^src/(${FACES})/` },
  },
  {
    name: 'areas-below-the-feeders',
    severity: 'error',
    comment:
      'Onboarding, bank statements and the demo generator drive the business areas from outside sources, and documents render them ' +
      'for the customer; the areas do not know them.',
    from: { path: `^src/(${AREAS})/` },
    to: { path: `^src/(${FEEDERS}|documents)/` },
  },
  {
    name: 'core-never-reads-the-warehouse',
    severity: 'error',
    comment:
      'The core (every folder of src/ but the shared warehouse and extract layers) never opens DuckDB or the warehouse: what the models ' +
      'hand back enters through a core service, and Parquet extracts are read by src/extract. Faces reach DuckDB only through ' +
      'the pipelines and models they load on demand.',
    from: { path: '^src/', pathNot: either('^src/(warehouse|extract)/', ...KNOWN_EXCEPTIONS.duckdbInTheCore) },
    to: { path: either(DUCKDB, '^src/warehouse/') },
  },
  {
    name: 'faces-call-services',
    severity: 'error',
    comment:
      'Routes, pages and commands validate, call a service and shape its answer: they never build SQL (kysely, pg, better-sqlite3) ' +
      'nor read a repository. The faces own services and repositories of their own (API keys, sessions) follow the same split.',
    from: { path: `^src/(${FACES})/`, pathNot: either('[.](service|repository)[.]ts$', ...KNOWN_EXCEPTIONS.facesReadingRepositories) },
    to: { path: either(SQL_DRIVERS, '[.]repository[.]ts$') },
  },
  {
    name: 'pipelines-read-the-core-through-db-and-events',
    severity: 'error',
    comment:
      'The warehouse loads what the core recorded (src/db, the event feed) and extract files (src/extract); it never calls a core service ' +
      'nor core.ts, so a pipeline run cannot change the core.',
    from: { path: '^pipelines/' },
    to: { path: '^src/', pathNot: '^src/(shared|db|events|extract|warehouse)/' },
  },
  {
    name: 'one-conductor',
    severity: 'error',
    comment: 'pipelines/run.ts alone runs the steps: it calls the forecast step and the reports build; no other pipeline module calls upward.',
    from: { path: '^pipelines/', pathNot: '^pipelines/run[.]ts$' },
    to: { path: '^(models|reports)/' },
  },
  {
    name: 'conductor-calls-entry-points',
    severity: 'error',
    comment: "pipelines/run.ts calls the models' and the reports' entry points only, never their internals.",
    from: { path: '^pipelines/run[.]ts$' },
    to: { path: '^(models|reports)/', pathNot: '^(models/forecast-step[.]ts|reports/build[.]ts)$' },
  },
  {
    name: 'models-read-the-warehouse',
    severity: 'error',
    comment:
      "Models read marts through src/warehouse and write forecast tables; they import neither the pipelines' internals, the reports, " +
      "nor the core, not even its types (src/ holds the CLI that loads the models' hand-backs, so any import of the core would close " +
      'a folder loop): a hand-back declares the shape it hands over and receives the core service call from its caller.',
    from: { path: '^models/' },
    to: { path: '^(src|pipelines|reports|scripts|bin|tests)/', pathNot: '^src/(shared|warehouse)/' },
  },
  {
    name: 'reports-read-the-snapshot',
    severity: 'error',
    comment:
      'Report loaders read the published snapshot through src/warehouse; they import neither the pipelines nor the models ' +
      '(what both need, such as the sales series SQL, lives in src/warehouse) nor the core.',
    from: { path: '^reports/' },
    to: { path: '^(src|pipelines|models|scripts|bin|tests)/', pathNot: '^src/(shared|warehouse)/' },
  },
  {
    name: 'core-never-calls-the-analytics',
    severity: 'error',
    comment:
      "Nothing in src/ imports the pipelines, models or reports, except the CLI loading the pipeline's commands " +
      "(run, rebuild, query, schedule) and the models' hand-backs (write-back.ts) when such a command runs.",
    from: { path: '^src/', pathNot: '^src/cli/' },
    to: { path: '^(pipelines|models|reports)/' },
  },
  {
    name: 'cli-loads-entry-points',
    severity: 'error',
    comment: "The CLI reaches the analytics only through the pipeline's commands and the models' hand-backs.",
    from: { path: '^src/cli/' },
    to: {
      path: '^(pipelines|models|reports)/',
      pathNot: '^(pipelines/(run|rebuild|query|schedule)[.]ts|models/[^/]+/write-back[.]ts)$',
    },
  },
  {
    name: 'api-below-cli',
    severity: 'error',
    comment: 'The CLI starts the API server and its portal (cashloop serve); they never run a command.',
    from: { path: '^src/(api|portal)/' },
    to: { path: '^src/cli/' },
  },
  {
    name: 'nothing-imports-scripts-or-tests',
    severity: 'error',
    comment: 'scripts/ (demo, benchmarks, evaluation), tests/ and *.bench.ts sit on top: they import anything and nothing imports them.',
    from: { pathNot: either('^(scripts|tests)/', BENCH) },
    to: { path: either('^(scripts|tests)/', BENCH) },
  },
  {
    name: 'scripts-do-not-import-tests',
    severity: 'error',
    comment: 'A script runs without the test helpers.',
    from: { path: '^scripts/' },
    to: { path: '^tests/' },
  },
  {
    name: 'bin-starts-the-cli',
    severity: 'error',
    comment: 'bin/cashloop.js only starts the CLI.',
    from: { path: '^bin/' },
    to: { path: '^(src|pipelines|models|reports|scripts|tests)/', pathNot: '^src/cli/' },
  },
  {
    name: 'not-to-dev-dependency',
    severity: 'error',
    comment: 'What runs in production imports runtime dependencies only; devDependencies are for scripts/ and tests/.',
    from: { path: '^(src|pipelines|models|reports|bin)/' },
    to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'src-folders-are-placed',
    severity: 'error',
    comment: 'Every folder of src/ has its place in the layers above (AREAS, FEEDERS, …): a new folder is placed here before the rules can keep it.',
    from: { path: `^src/[^/]+/`, pathNot: `^src/(${PLACED})/` },
    to: {},
  },
  {
    name: 'not-to-unresolvable',
    severity: 'error',
    comment: 'An import the checker cannot resolve is a rule it cannot check.',
    from: {},
    to: { couldNotResolve: true },
  },
];

// Benchmarks stand outside the layers (see BENCH): every rule that places a file by its path leaves them out.
const LAYER_FREE = ['no-circular', 'no-folder-cycle', 'nothing-imports-scripts-or-tests', 'not-to-unresolvable'];
for (const rule of forbidden) {
  if (LAYER_FREE.includes(rule.name)) continue;
  rule.from = { ...rule.from, pathNot: rule.from.pathNot ? either(rule.from.pathNot, BENCH) : BENCH };
}

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    exclude: { path: '^(data|reports/[.]observablehq)/' },
    // Type-only imports count: a type shared both ways is still a cycle to split.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Packages' `exports` maps, as Node resolves them (csv-stringify/sync, tsx/esm/api).
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    // Nothing is fetched or written outside the repository: the checker reads the files and answers.
    cache: false,
  },
};

// For tests/architecture/dependencies.test.ts, which checks that each listed exception is
// still needed; not enumerable, so dependency-cruiser's own check of the config does not see it.
Object.defineProperty(module.exports, 'knownExceptions', { value: KNOWN_EXCEPTIONS });
