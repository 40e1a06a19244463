/**
 * Slots of the Int32Array (over a SharedArrayBuffer) that the socket thread and the main thread
 * share. The socket thread writes while the main thread may be stuck in a cell, and the main
 * thread reads with plain loads inside hot loops (see Executor.checkInterrupt).
 */
/** Interrupt generation: +1 for every interrupt the socket thread performs (request, memory guard, shutdown). */
export const INTERRUPTS = 0;
/**
 * 1 while the main thread runs JavaScript of a cell's synchronous part inside vm (breakOnSigint is
 * armed), 0 otherwise. The socket thread changes 1 -> 2 when it sends SIGINT; the main thread
 * leaving vm changes 1 -> 0, and on finding 2 waits inside vm for that signal (see
 * Executor.leaveVm), so a SIGINT the socket thread sends always lands where vm takes it.
 */
export const IN_VM = 1;
export const VM_SIGINT_SENT = 2;
/** 1 when the memory guard fired (the main thread resets it). */
export const GUARD_TRIPPED = 2;
/** The main thread's memory growth in MB when the guard fired. */
export const GUARD_MB = 3;
export const SLOTS = 4;

export function newSharedState(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
}
