/**
 * The one place the kernel uses tslab's internals (tslab/dist/*, not its public API) and the
 * TypeScript it bundles. tslab is pinned exactly in package.json (TSLAB_PINNED);
 * test/contracts.test.ts checks each entry point below by name, so an upgrade that moves one
 * fails that test instead of the kernel at load time.
 */
import * as path from 'path';

/** The tslab version these internals were checked against. */
export const TSLAB_PINNED = '1.0.22';

export { createConverter, isCompleteCode } from 'tslab/dist/converter';
export type { Converter, Diagnostic, SideOutput } from 'tslab/dist/converter';
export { getCodeMetadata } from 'tslab/dist/metadata';
export { createRequire } from 'tslab/dist/executor';
export { printQuickInfo } from 'tslab/dist/inspect';
export { normalizeJoin } from 'tslab/dist/tspath';

/** The installed tslab's version. */
export function tslabVersion(): string {
  return String(require('tslab/package.json').version);
}

function tslabDir(): string {
  return path.dirname(require.resolve('tslab/package.json'));
}

/** The TypeScript version tslab compiles cells with (it bundles its own copy). */
export function typescriptVersion(): string {
  try {
    return String(require(require.resolve('@tslab/typescript-for-tslab/package.json', { paths: [tslabDir()] })).version);
  } catch {
    return 'unknown';
  }
}

let tsForTslab: typeof import('typescript') | null = null;
/** The TypeScript that tslab bundles (its scanner is what reads cells). */
export function tslabTypeScript(): typeof import('typescript') {
  tsForTslab ??= require(require.resolve('@tslab/typescript-for-tslab', { paths: [tslabDir()] })) as typeof import('typescript');
  return tsForTslab;
}

/** The module whose `lastWriteDisplayData` tslab's display API (`tslab.display.*`) calls. */
interface TslabJupyterModule {
  lastWriteDisplayData: (content: unknown, update: boolean) => void;
}

/**
 * Route tslab's own display API (`import * as tslab from 'tslab'; tslab.display.png(...)`) to
 * `send`, by replacing tslab/dist/jupyter's `lastWriteDisplayData`.
 */
export function hookTslabDisplay(send: (content: unknown, update: boolean) => void): void {
  const jupyter = require('tslab/dist/jupyter') as TslabJupyterModule;
  if (!('lastWriteDisplayData' in jupyter)) throw new Error(`tslab ${tslabVersion()} has no tslab/dist/jupyter lastWriteDisplayData (checked against ${TSLAB_PINNED}).`);
  jupyter.lastWriteDisplayData = send;
}
