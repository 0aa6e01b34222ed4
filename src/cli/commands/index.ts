import type { Command } from 'commander';
import { registerMigrate } from './migrate.ts';
import { registerCore } from './core.ts';
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
import { registerRates } from './rates.ts';

/**
 * Every command module of the CLI, in the order they appear in `cashloop --help`.
 * A module is `(program) => void` and adds its commands to the program.
 */
export const commandModules: ((program: Command) => void)[] = [registerMigrate, registerCore, registerImport, registerDemo, registerBank, registerPipeline, registerQuery, registerSchedule, registerServe, registerScores, registerCollections, registerBackup, registerRates];
