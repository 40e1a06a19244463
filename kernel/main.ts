#!/usr/bin/env node
/**
 * Kernel entry point, started by Jupyter from the kernelspec:
 *   node dist/kernel/main.js --connection-file {connection_file}
 * (also accepts `-f <file>`, `--connection-file=<file>` or the file as the only argument).
 */
import { exitKernel, guardProcessExit } from './exit';
import { readConnectionFile } from './server';
import { Kernel } from './kernel';
import * as path from 'path';
import { ensureSelfLink, PROJECT_ROOT } from './install';

export function connectionFileFromArgs(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--connection-file' || a === '-f' || a === '--config-path') return argv[i + 1];
    const m = /^--(?:connection-file|config-path)=(.+)$/.exec(a);
    if (m) return m[1];
  }
  return argv.find((a) => !a.startsWith('-'));
}

async function main(): Promise<void> {
  const file = connectionFileFromArgs(process.argv.slice(2));
  if (!file) {
    process.stderr.write('usage: node dist/kernel/main.js --connection-file <path>\n');
    exitKernel(2);
  }
  // Inside this repository (not when installed as a dependency), repair the link npm removes.
  if (path.basename(path.dirname(PROJECT_ROOT)) !== 'node_modules') {
    try {
      ensureSelfLink();
    } catch {
      // read-only checkout: the import will fail with its own clear message
    }
  }
  guardProcessExit(); // a cell's process.exit() becomes an error in that cell (kernel/exit.ts)
  const kernel = new Kernel(readConnectionFile(file));
  await kernel.start();
  watchParent(kernel);
}

/**
 * Exit when the process that started us (the Jupyter server) is gone, as ipykernel's parent
 * poller does: otherwise a killed server leaves orphan kernels behind.
 */
function watchParent(kernel: Kernel): void {
  const parent = Number(process.env.JPY_PARENT_PID) || process.ppid;
  if (!parent || parent === 1) return;
  const timer = setInterval(() => {
    let alive = true;
    try {
      process.kill(parent, 0);
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive || (process.platform !== 'win32' && process.ppid !== parent && !process.env.JPY_PARENT_PID)) {
      kernel.log(`parent process ${parent} is gone; exiting`);
      exitKernel(0);
    }
  }, 3000);
  timer.unref();
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`[inference-lab kernel] failed to start: ${(e as Error)?.stack ?? e}\n`);
    exitKernel(1);
  });
}
