/**
 * `process.exit()` belongs to the kernel. A cell that calls it used to end the process with the
 * zeromq sockets open (SIGABRT in their teardown, no reply). Importing this module replaces
 * `process.exit` for everyone else with a function that throws: the cell gets an error reply and
 * the kernel keeps running. The kernel's own exits go through `exitKernel`.
 */
const realExit = process.exit.bind(process) as (code?: number) => never;

/** Thrown where code other than the kernel calls process.exit(). */
export class ExitError extends Error {
  constructor(code: unknown) {
    super(`process.exit(${code === undefined ? '' : String(code)}) was called: a cell cannot end the kernel; it keeps running. Restart the kernel to start over.`);
    this.name = 'ExitError';
  }
}

let installed = false;
export function guardProcessExit(): void {
  if (installed) return;
  installed = true;
  process.exit = ((code?: number) => {
    throw new ExitError(code);
  }) as typeof process.exit;
}

/** End the kernel process (the kernel's own shutdown paths). */
export function exitKernel(code = 0): never {
  return realExit(code);
}
