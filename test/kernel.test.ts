/**
 * Kernel conformance, end to end: the built kernel (dist/kernel/main.js) started by Python's
 * jupyter_client, driven by test/python/kernel_probe.py, which prints every reply and iopub
 * message as JSON. One kernel run; each `it` checks one behaviour.
 */
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findPython, kernelspecEnv, parseJsonOutput, PY_DIR, requirePythonModules, runPython } from './helpers/jupyter';

interface Msg {
  msg_type: string;
  content: any;
}
interface Exchange {
  reply: Msg | null;
  iopub: Msg[];
}
interface Probe {
  probe_error?: string;
  kernel_info: Exchange;
  cells: Record<string, Exchange>;
  bad_signature: { reply: Msg | null; after: Exchange };
  complete: Exchange;
  inspect: Exchange;
  is_complete: Exchange;
  history: Exchange;
  comm_info: { reply: Msg | null };
  interrupt_sync: Exchange;
  interrupt_async: Exchange;
  after_interrupt: Exchange;
  shutdown: { alive_after?: boolean; error?: string };
}

let probe: Probe;

const outputs = (x: Exchange, type: string) => x.iopub.filter((m) => m.msg_type === type);
const resultText = (x: Exchange) => outputs(x, 'execute_result').map((m) => m.content.data['text/plain']);

beforeAll(async () => {
  const python = findPython();
  requirePythonModules(python, ['jupyter_client']);
  const r = await runPython(python, [path.join(PY_DIR, 'kernel_probe.py'), 'inference-lab'], { env: kernelspecEnv(), timeoutMs: 280_000 });
  probe = parseJsonOutput<Probe>(r);
  if (probe.probe_error) throw new Error(`probe failed:\n${probe.probe_error}\nkernel stderr:\n${r.stderr.slice(-3000)}`);
}, 300_000);

describe('inference-lab kernel (through jupyter_client)', () => {
  it('answers kernel_info with status ok and TypeScript language_info', () => {
    const c = probe.kernel_info.reply!.content;
    expect(probe.kernel_info.reply!.msg_type).toBe('kernel_info_reply');
    expect(c.status).toBe('ok');
    expect(c.protocol_version).toBe('5.3');
    expect(c.language_info.name).toBe('typescript');
    expect(c.language_info.file_extension).toBe('.ts');
    expect(c.language_info.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('publishes busy, execute_input, ..., idle around an execution', () => {
    const types = probe.cells.add.iopub.map((m) => (m.msg_type === 'status' ? m.content.execution_state : m.msg_type));
    expect(types[0]).toBe('busy');
    expect(types[1]).toBe('execute_input');
    expect(types[types.length - 1]).toBe('idle');
  });

  it('sends the last expression as execute_result', () => {
    const add = probe.cells.add;
    expect(add.reply!.content.status).toBe('ok');
    const [res] = outputs(add, 'execute_result');
    expect(res.content.data['text/plain']).toBe('3');
    expect(res.content.execution_count).toBe(add.reply!.content.execution_count);
    expect(resultText(probe.cells.string)).toEqual(["'ab'"]);
  });

  it('sends console.log output as a stdout stream and console.error as stderr', () => {
    const log = outputs(probe.cells.log, 'stream');
    expect(log.map((m) => m.content.name)).toEqual(['stdout']);
    expect(log[0].content.text).toBe('hi\n');
    expect(outputs(probe.cells.log, 'execute_result')).toEqual([]);
    expect(outputs(probe.cells.stderr, 'stream').map((m) => m.content.name)).toEqual(['stderr']);
  });

  it('reports a thrown error as exactly one error message and an error reply', () => {
    const boom = probe.cells.boom;
    const errs = outputs(boom, 'error');
    expect(errs).toHaveLength(1);
    expect(errs[0].content.ename).toBe('Error');
    expect(errs[0].content.evalue).toContain('boom');
    expect(Array.isArray(errs[0].content.traceback)).toBe(true);
    expect(boom.reply!.content.status).toBe('error');
    expect(boom.reply!.content.evalue).toContain('boom');
    expect(outputs(boom, 'stream')).toEqual([]); // not also printed to stderr
    expect(resultText(probe.cells.after_boom)).toEqual(['2']);
  });

  it('reports TypeScript compile errors with line:col', () => {
    const ce = probe.cells.compile_error;
    const errs = outputs(ce, 'error');
    expect(errs).toHaveLength(1);
    expect(errs[0].content.ename).toBe('CompileError');
    expect(errs[0].content.evalue).toMatch(/^1:7 - Type 'string' is not assignable to type 'number'/);
    expect(ce.reply!.content.status).toBe('error');
  });

  it('handles top-level await, rejected awaits and promise values', () => {
    expect(resultText(probe.cells.tla)).toEqual(['42']);
    const rej = outputs(probe.cells.rejected, 'error');
    expect(rej).toHaveLength(1);
    expect(rej[0].content).toMatchObject({ ename: 'TypeError', evalue: 'nope' });
    expect(resultText(probe.cells.promise_value)).toEqual(['7']);
    expect(outputs(probe.cells.undefined_value, 'execute_result')).toEqual([]);
  });

  it('shows a value with toMimeBundle() as a multi-MIME execute_result', () => {
    const [res] = outputs(probe.cells.mime, 'execute_result');
    expect(res.content.data['application/vnd.vegalite.v5+json']).toMatchObject({ mark: 'bar' });
    expect(res.content.data['text/plain']).toBe('a chart');
    const [later] = outputs(probe.cells.async_mime, 'execute_result');
    expect(later.content.data['image/png']).toBe('iVBORw0KGgo=');
  });

  it('sends display_data and update_display_data through the kernel bridge', () => {
    const d = probe.cells.display;
    const [shown] = outputs(d, 'display_data');
    expect(shown.content.data).toEqual({ 'text/plain': 'first', 'image/svg+xml': '<svg/>' });
    expect(shown.content.transient).toEqual({ display_id: 'd1' });
    const [upd] = outputs(d, 'update_display_data');
    expect(upd.content.transient).toEqual({ display_id: 'd1' });
    expect(upd.content.data['text/plain']).toBe('second');
  });

  it('keeps declarations across cells', () => {
    expect(resultText(probe.cells.use_decl)).toEqual(['20']);
  });

  it('drops wrongly signed and malformed messages and keeps working', () => {
    expect(probe.bad_signature.reply).toBeNull();
    expect(resultText(probe.bad_signature.after)).toEqual(["'undefined'"]); // the unsigned code never ran
  });

  it('answers complete, inspect, is_complete, history and comm_info', () => {
    expect(probe.complete.reply!.content).toMatchObject({ status: 'ok', matches: expect.arrayContaining(['abcdef']) });
    expect(probe.inspect.reply!.content.status).toBe('ok');
    expect(probe.inspect.reply!.content.found).toBe(true);
    expect(probe.inspect.reply!.content.data['text/plain']).toContain('Math.max');
    expect(probe.is_complete.reply!.content.status).toBe('incomplete');
    expect(probe.history.reply!.content.status).toBe('ok');
    expect(probe.history.reply!.content.history.length).toBe(3);
    expect(probe.comm_info.reply).toEqual({ msg_type: 'comm_info_reply', content: { status: 'ok', comms: {} } });
  });

  it('interrupts a synchronous loop and a pending await, then keeps working', () => {
    for (const x of [probe.interrupt_sync, probe.interrupt_async]) {
      expect(x.reply!.content.status).toBe('error');
      expect(x.reply!.content.ename).toBe('KeyboardInterrupt');
    }
    expect(resultText(probe.after_interrupt)).toEqual(['2']);
  });

  it('shuts down cleanly', () => {
    expect(probe.shutdown).toEqual({ alive_after: false });
  });
});

describe('jupyter_kernel_test conformance suite', () => {
  it('passes (kernel_info, execute_result, error, streams, display, completion, inspect, history, clear_output)', async () => {
    const python = findPython();
    requirePythonModules(python, ['jupyter_kernel_test']);
    const r = await runPython(python, ['-m', 'unittest', '-v', 'conformance'], { env: kernelspecEnv(), cwd: PY_DIR, timeoutMs: 280_000 });
    const summary = r.stderr.split('\n').filter((l) => /\.\.\. |^Ran |^OK|^FAILED/.test(l)).join('\n');
    expect(r.code, `${summary}\n${r.stderr.slice(-4000)}`).toBe(0);
    expect(summary).toMatch(/^OK/m);
  }, 300_000);
});
