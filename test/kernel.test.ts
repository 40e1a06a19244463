/**
 * Kernel conformance, end to end: the built kernel (dist/kernel/main.js) started by Python's
 * jupyter_client, driven by test/python/kernel_probe.py, which prints every reply and iopub
 * message as JSON. One kernel run; each `it` checks one behaviour.
 */
import * as path from 'path';
import { createRequire } from 'module';
import { beforeAll, describe, expect, it } from 'vitest';
import { findPython, kernelspecEnv, parseJsonOutput, PY_DIR, requirePythonModules, ROOT, runPython } from './helpers/jupyter';

interface Msg {
  msg_type: string;
  content: any;
}
interface Exchange {
  reply: Msg | null;
  iopub: Msg[];
}
interface Interrupted {
  control_reply: Msg | null;
  reply: Msg | null;
  iopub: Msg[];
  latency_s: number;
  after: Exchange;
  beating_while_running: boolean;
}
interface Probe {
  probe_error?: string;
  startup: { first_result_s: number; first: Exchange };
  kernel_info: Exchange;
  cells: Record<string, Exchange>;
  bad_signature: { reply: Msg | null; after: Exchange };
  complete: Exchange;
  inspect: Exchange;
  is_complete: Exchange;
  history: Exchange;
  comm_info: { reply: Msg | null };
  is_complete_all: Record<string, Msg | null>;
  user_expressions: Exchange;
  history_search: Exchange;
  history_range: Exchange;
  comm_open: { iopub: Msg[] };
  comm_info_target: { reply: Msg | null };
  after_comm: Exchange;
  survival: Record<string, Exchange> & {
    megabyte: { reply: Msg | null; stream_chars: number; seconds: number; messages: number };
    live_output: { seen_while_looping: string | null; reply: Msg | null; iopub: Msg[] };
  };
  abort_queue: { replies: (Msg | null)[] };
  after_abort: Exchange;
  no_abort: { replies: (Msg | null)[] };
  pager: Exchange;
  pager_prefix: Exchange;
  pager_unknown: Exchange;
  fuzz: { sent: number; kinds: string[]; kinds_sent: string[]; alive: boolean };
  after_fuzz: Exchange;
  after_fuzz_info: Exchange;
  after_fuzz_control: Msg | null;
  after_fuzz_hb: boolean;
  heap: {
    grow?: Exchange;
    after?: Exchange;
    grow_async?: Exchange;
    after_async?: Exchange;
    seconds?: number;
    alive: boolean;
    error?: string;
    shutdown_reply?: Msg | null;
    shutdown_busy_s?: number;
    alive_after_shutdown?: boolean;
    exit_code?: number | null;
  };
  interrupts: Record<string, Interrupted> & { zombie: { control_reply: Msg | null; reply: Msg | null; after: Exchange } };
  after_interrupt: Exchange;
  shutdown: { alive_after?: boolean; error?: string };
}

let probe: Probe;
/** What the kernels wrote to stderr (their log lines: dropped messages, late errors, ...). */
let kernelLog = '';

const outputs = (x: Exchange, type: string) => x.iopub.filter((m) => m.msg_type === type);
const resultText = (x: Exchange) => outputs(x, 'execute_result').map((m) => m.content.data['text/plain']);

beforeAll(async () => {
  const python = findPython();
  requirePythonModules(python, ['jupyter_client']);
  const r = await runPython(python, [path.join(PY_DIR, 'kernel_probe.py'), 'inference-lab'], { env: kernelspecEnv(), timeoutMs: 280_000 });
  probe = parseJsonOutput<Probe>(r);
  kernelLog = r.stderr;
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
    // A function inside a bundle is dropped as JSON would drop it (not the whole output).
    expect(outputs(probe.cells.uncloneable, 'execute_result')[0].content.data['application/json']).toEqual({ a: 1 });
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

  it('resolves shorthand properties `{ x }` and renaming destructuring of earlier cells\' values, with error columns as typed', () => {
    expect(resultText(probe.cells.use_decl_shorthand)).toEqual([`'[{"counter":10},{"counter":10,"doubled":20}]'`]);
    expect(resultText(probe.cells.destructure_rename)).toEqual(['[ 10, 30 ]']);
    expect(resultText(probe.cells.use_renamed)).toEqual(['11']);
    const [err] = outputs(probe.cells.shorthand_compile_error, 'error');
    expect(err.content.evalue).toMatch(/^1:31 - Type 'number' is not assignable to type 'string'/);
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

  it('starts and gives its first result (the target is under 3 s: reported, not asserted)', () => {
    console.log(`[kernel] start to first result: ${probe.startup.first_result_s.toFixed(2)} s`);
    expect(resultText(probe.startup.first)).toEqual(['3']);
  });

  it('kernel_info has a banner, help links and the real TypeScript version', () => {
    const c = probe.kernel_info.reply!.content;
    const fromTslab = createRequire(path.join(ROOT, 'node_modules', 'tslab', 'package.json'));
    expect(c.language_info.version).toBe(fromTslab('@tslab/typescript-for-tslab/package.json').version);
    expect(c.banner).toMatch(/TypeScript/);
    expect(c.help_links.length).toBeGreaterThan(0);
    expect(c.implementation).toBe('inference-lab');
  });

  it('says complete / incomplete / invalid', () => {
    const st = Object.fromEntries(Object.entries(probe.is_complete_all).map(([k, v]) => [k, v!.content.status]));
    expect(st).toEqual({
      '1 + 1': 'complete',
      'function f() {': 'incomplete',
      'foo())': 'invalid',
      '}': 'invalid',
      'const a = [1, 2)]': 'invalid',
      '`${1}`': 'complete',
    });
  });

  it('evaluates user_expressions', () => {
    const ue = probe.user_expressions.reply!.content.user_expressions;
    expect(ue.double).toEqual({ status: 'ok', data: { 'text/plain': '10' }, metadata: {} });
    expect(ue.bad).toMatchObject({ status: 'error', ename: 'ReferenceError' });
  });

  it('answers history search and range', () => {
    expect(probe.history_search.reply!.content.history.map((h: unknown[]) => h[2])).toEqual(['counter * 2']);
    const range = probe.history_range.reply!.content.history;
    expect(range.map((h: unknown[]) => h[1])).toEqual([1, 2]);
    expect(range[0][2]).toEqual(['1 + 2', '3']); // output=True gives [input, output]
  });

  it('closes a comm a frontend opens to an unknown target, and lists no comms', () => {
    const closes = probe.comm_open.iopub.filter((m) => m.msg_type === 'comm_close');
    expect(closes.map((m) => m.content.comm_id)).toEqual(['c-123']);
    expect(probe.comm_info_target.reply!.content).toEqual({ status: 'ok', comms: {} });
    expect(resultText(probe.after_comm)).toEqual(['2']);
  });

  it('survives a throw, late rejections / exceptions, failed allocations and a megabyte of output', () => {
    const s = probe.survival;
    expect(outputs(s.throws, 'error').map((m) => m.content.ename)).toEqual(['RangeError']);
    expect(resultText(s.after_throws)).toEqual(['2']);
    // An error raised after its cell finished shows up (as stderr) on the next cell, which runs.
    const lateText = (x: Exchange) => outputs(x, 'stream').map((m) => m.content.text).join('');
    expect(lateText(s.after_late_rejection)).toMatch(/Unhandled promise rejection.*late rejection/);
    expect(resultText(s.after_late_rejection)).toEqual(["'next cell'"]);
    expect(lateText(s.after_late_throw)).toMatch(/Uncaught exception.*timer threw/);
    expect(resultText(s.after_late_throw)).toEqual(["'next cell'"]);
    expect(kernelLog).toMatch(/Unhandled promise rejection \(from code that ran earlier\).*late rejection/);
    for (const k of ['alloc_arraybuffer', 'alloc_string', 'alloc_typed']) {
      expect(outputs(s[k], 'error').map((m) => m.content.ename), k).toEqual(['RangeError']);
    }
    expect(resultText(s.after_alloc)).toEqual(['1']);
    expect(s.megabyte.reply!.content.status).toBe('ok');
    expect(s.megabyte.stream_chars).toBe((1 << 20) + 1);
    console.log(`[kernel] 1 MiB of stdout: ${s.megabyte.seconds.toFixed(2)} s in ${s.megabyte.messages} iopub messages`);
    expect(resultText(s.after_megabyte)).toEqual(['2']);
  });

  it('stops a cell that grows the JS heap without end before V8 aborts the kernel (memory guard)', () => {
    const h = probe.heap;
    expect(h.error).toBeUndefined();
    for (const [grow, after, left] of [[h.grow!, h.after!, "'still here'"], [h.grow_async!, h.after_async!, "'still here again'"]] as const) {
      const errs = outputs(grow, 'error');
      expect(errs.map((m) => m.content.ename)).toEqual(['MemoryError']);
      expect(errs[0].content.evalue).toMatch(/grew by about \d+ MB .* heap limit of \d+ MB/);
      expect(resultText(after)).toEqual([left]); // same process, earlier variables kept
    }
    console.log(`[kernel] heap exhaustion (512 MB heap) stopped after ${h.seconds!.toFixed(1)} s: ${outputs(h.grow!, 'error')[0].content.evalue}`);
    expect(h.alive).toBe(true);
  });

  it('shuts down on request while a synchronous loop runs (the socket thread interrupts it)', () => {
    console.log(`[kernel] shutdown_request during while(true): reply after ${probe.heap.shutdown_busy_s!.toFixed(2)} s`);
    expect(probe.heap.shutdown_reply).toEqual({ msg_type: 'shutdown_reply', content: { status: 'ok', restart: false } });
    expect(probe.heap.alive_after_shutdown).toBe(false);
    expect(probe.heap.exit_code).toBe(0); // it exited by itself, not killed by the client
  });

  it('publishes output of a synchronous loop while it runs', () => {
    // The loop ends only once the probe has seen its first line (see live_output in the probe).
    const live = probe.survival.live_output;
    expect(live.seen_while_looping).toBe('waiting for the flag\n');
    expect(live.reply!.content.status).toBe('ok');
    expect(resultText(live as unknown as Exchange)).toEqual(["'loop ended'"]);
  });

  it('aborts requests queued behind an error, unless stop_on_error is false', () => {
    expect(probe.abort_queue.replies.map((r) => r!.content.status)).toEqual(['error', 'aborted', 'aborted']);
    expect(resultText(probe.after_abort)).toEqual(["'undefined'"]); // the aborted cell never ran
    expect(probe.no_abort.replies.map((r) => r!.content.status)).toEqual(['error', 'ok']);
  });

  it('answers `name?` and `?name` with a pager payload', () => {
    const [page] = probe.pager.reply!.content.payload;
    expect(page.source).toBe('page');
    expect(page.data['text/plain']).toContain('max(...values: number[]): number');
    expect(probe.pager_prefix.reply!.content.payload[0].data['text/plain']).toContain('min(');
    expect(probe.pager_unknown.reply!.content).toMatchObject({ status: 'ok', payload: [] });
    expect(outputs(probe.pager_unknown, 'stream')[0].content.text).toMatch(/no_such_name_here: not found/);
  });

  it('drops a few hundred fuzzed, malformed and wrongly signed messages with a log line and keeps working', () => {
    expect(probe.fuzz.sent).toBeGreaterThanOrEqual(300);
    expect(probe.fuzz.alive).toBe(true);
    expect(resultText(probe.after_fuzz)).toEqual(["'undefined 42'"]); // nothing wrongly signed ran
    expect(probe.after_fuzz_info.reply!.msg_type).toBe('kernel_info_reply');
    expect(probe.after_fuzz_control!.msg_type).toBe('kernel_info_reply');
    expect(probe.after_fuzz_hb).toBe(true);
    // Every message that could not be decoded or verified left one line in the kernel's log.
    const dropped = kernelLog.split('\n').filter((l) => /\[inference-lab kernel\] dropped a message on (shell|control): /.test(l));
    const rejectedKinds = ['random_frames', 'bad_signature', 'bad_json', 'truncated', 'header_not_object', 'no_msg_type', 'content_not_object'];
    const undecodable = probe.fuzz.kinds_sent.filter((k) => rejectedKinds.includes(k)).length;
    console.log(`[kernel] fuzz: ${probe.fuzz.sent} messages sent, ${dropped.length} dropped with a log line (${undecodable} undecodable by design)`);
    expect(dropped.length).toBeGreaterThanOrEqual(undecodable);
  });

  it('interrupt_request (control) stops sync loops, awaits, loops after an await and library loops; SIGINT the first two', () => {
    const lines: string[] = [];
    const { zombie, ...cases } = probe.interrupts;
    for (const [name, x] of Object.entries(cases)) {
      lines.push(`${name} ${(x.latency_s * 1000).toFixed(0)} ms`);
      if (name.startsWith('control')) expect(x.control_reply, name).toEqual({ msg_type: 'interrupt_reply', content: { status: 'ok' } });
      expect(x.reply!.content, name).toMatchObject({ status: 'error', ename: 'KeyboardInterrupt' });
      expect(outputs(x as unknown as Exchange, 'error'), name).toHaveLength(1);
      expect(x.beating_while_running, `${name}: heartbeat while the cell runs`).toBe(true);
      expect(resultText(x.after), name).toEqual(['43']); // `let kept_... = 42` from before survived
    }
    console.log(`[kernel] interrupt to execute_reply: ${lines.join(', ')}`);
    expect(Object.keys(cases).sort()).toEqual(
      ['control_sync', 'signal_sync', 'control_await', 'signal_await', 'control_loop_after_await', 'control_library_loop'].sort(),
    );
    expect(resultText(probe.after_interrupt)).toEqual(['2']);
  });

  it('stops the loop of an interrupted async cell instead of leaving it running in the background', () => {
    const z = probe.interrupts.zombie;
    expect(z.reply!.content).toMatchObject({ status: 'error', ename: 'KeyboardInterrupt' });
    // Resumed once by the next cell, the old loop counted that turn and then stopped: no new gate.
    expect(resultText(z.after)).toEqual(["'turns 1, same gate true'"]);
  });

  it('shuts down cleanly', () => {
    expect(probe.shutdown).toEqual({ alive_after: false });
  });
});

describe('jupyter_kernel_test conformance suite', () => {
  it('passes every test, with every attribute set (nothing skipped)', async () => {
    const python = findPython();
    requirePythonModules(python, ['jupyter_kernel_test']);
    const r = await runPython(python, ['-m', 'unittest', '-v', 'conformance'], { env: kernelspecEnv(), cwd: PY_DIR, timeoutMs: 280_000 });
    const summary = r.stderr.split('\n').filter((l) => /\.\.\. |^Ran |^OK|^FAILED/.test(l)).join('\n');
    expect(r.code, `${summary}\n${r.stderr.slice(-4000)}`).toBe(0);
    console.log(`[jupyter_kernel_test]\n${summary}`);
    expect(summary).toMatch(/^OK$/m); // "OK (skipped=n)" would fail here
    const ran = summary.split('\n').filter((l) => / \.\.\. ok$/.test(l)).map((l) => l.split(' ')[0]);
    expect(ran.sort()).toEqual(
      ['test_clear_output', 'test_completion', 'test_display_data', 'test_error', 'test_execute_result', 'test_execute_stderr',
        'test_execute_stdout', 'test_history', 'test_inspect', 'test_is_complete', 'test_kernel_info', 'test_pager'].sort(),
    );
  }, 300_000);
});
