import type { Command } from 'commander';
import { registerMigrate } from './migrate.ts';
import { registerCustomers } from './customers.ts';
import { registerCatalog } from './catalog.ts';
import { registerOrders } from './orders.ts';
import { registerCredit } from './credit.ts';
import { registerShipping } from './shipping.ts';
import { registerInvoicing } from './invoicing.ts';
import { registerPayments } from './payments.ts';
import { registerSettings } from './settings.ts';
import { registerImport } from './import.ts';
import { registerDemo } from './demo.ts';
import { registerBank } from './bank.ts';
import { registerPipeline } from './pipeline.ts';
import { registerQuery } from './query.ts';
import { registerSchedule } from './schedule.ts';
import { registerServe } from './serve.ts';
import { registerScores } from './scores.ts';
import { registerCollections } from './collections.ts';
import { registerBackup } from './backup.ts';
import { registerUsers } from './users.ts';
import { registerRates } from './rates.ts';

/**
 * Every command module of the CLI, in the order they appear in `cashloop --help`.
 * A module is `(program) => void` and adds its commands to the program. The business areas
 * come one file each, named like the API's route files (src/api/routes/*.routes.ts).
 */
export const commandModules: ((program: Command) => void)[] = [
  registerMigrate,
  registerCustomers, registerCatalog, registerOrders, registerCredit, registerShipping, registerInvoicing, registerPayments, registerSettings,
   registerImport, registerDemo, registerBank, registerPipeline, registerQuery, registerSchedule, registerServe, registerScores, registerCollections, registerBackup, registerUsers, registerRates,
];
