// Hostile cells and requests against the kernel (test/python/hostile_probe.py drives it through
// jupyter_client): each case asserts the clear error AND that the kernel still answers (a variable
// defined first survives every one).
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findPython, kernelspecEnv, parseJsonOutput, PY_DIR, requirePythonModules, runPython } from './helpers/jupyter';

interface Cell {
  status: string | null;
  value: string | null;
  errors: string[];
  reply_ename?: string;
  seconds?: number;
}
interface Probe {
  exception?: string;
  exit: Cell;
  exit_alive: string;
  mime_loop: Cell;
  mime_loop_alive: string;
  history: { status: string; n: number; seconds: number };
  history_glob: string[];
  replay: { first: string; counter: string };
  code_not_string: { status: string; evalue: string };
  code_not_string_alive: string;
  tf_setup: Cell;
  tf_refused: Cell;
  tf_intact: string;
  gen_setup: Cell;
  gen_interrupted: Cell;
  gen_leaked: string;
  gen_again: string;
  final_alive: string;
  kernel_alive_at_end: boolean;
}

let probe: Probe;
let log = '';
beforeAll(async () => {
  const python = findPython();
  requirePythonModules(python, ['jupyter_client']);
  const r = await runPython(python, [path.join(PY_DIR, 'hostile_probe.py'), 'inference-lab'], { env: kernelspecEnv(), cwd: PY_DIR, timeoutMs: 170_000 });
  log = r.stderr;
  probe = parseJsonOutput<Probe>(r);
  if (probe.exception) throw new Error(`probe failed:\n${probe.exception}\nkernel stderr:\n${r.stderr.slice(-3000)}`);
}, 180_000);

describe('hostile kernel', () => {
  it('process.exit() in a cell is an error in that cell; the kernel keeps running', () => {
    expect(probe.exit.status).toBe('error');
    expect(probe.exit.errors.join('\n')).toMatch(/ExitError: process\.exit\(3\) was called: a cell cannot end the kernel/);
    expect(probe.exit_alive).toBe("'1,2,3'");
  });

  it('a toMimeBundle() that loops for ever is stopped by an interrupt', () => {
    expect(probe.mime_loop.status, log.slice(-2000)).toBe('error');
    expect(probe.mime_loop.errors.join('\n')).toMatch(/KeyboardInterrupt/);
    expect(probe.mime_loop.seconds).toBeLessThan(30);
    expect(probe.mime_loop_alive).toBe("'1,2,3'");
  });

  it('a history search pattern that backtracks catastrophically as a RegExp is answered at once; globs still match', () => {
    expect(probe.history.status).toBe('ok');
    expect(probe.history.n).toBe(0);
    expect(probe.history.seconds).toBeLessThan(5);
    expect(probe.history_glob).toContain('const keep = [1, 2, 3];');
  });

  it('a correctly signed message sent twice runs once (the replay is dropped)', () => {
    expect(probe.replay.first).toBe('ok');
    expect(probe.replay.counter).toBe('1');
  });

  it('a signed execute_request whose code is not a string gets an error reply', () => {
    expect(probe.code_not_string.status).toBe('error');
    expect(probe.code_not_string.evalue).toMatch(/content\.code must be a string; got number/);
    expect(probe.code_not_string_alive).toBe("'1,2,3'");
  });

  it('an allocation past the tensor limit is refused in its cell; the earlier tensor is intact', () => {
    expect(probe.tf_setup.status, JSON.stringify(probe.tf_setup)).toBe('ok');
    expect(probe.tf_refused.status).toBe('error');
    expect(probe.tf_refused.errors.join('\n')).toMatch(/AllocationError: Refused to allocate/);
    expect(probe.tf_intact).toBe("'1,2,3,4'");
    expect(probe.final_alive).toBe("'1,2,3'");
    expect(probe.kernel_alive_at_end).toBe(true);
  });

  it('an interrupted generate leaks no tensors, and the model still generates', () => {
    expect(probe.gen_setup.status, JSON.stringify(probe.gen_setup)).toBe('ok');
    expect(probe.gen_interrupted.status).toBe('error');
    expect(probe.gen_interrupted.errors.join('\n')).toMatch(/KeyboardInterrupt/);
    expect(probe.gen_leaked).toBe('0');
    expect(probe.gen_again).toBe('2');
  });
});
