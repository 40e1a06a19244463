/**
 * The interrupt checks the kernel puts into loops of cell code (kernel/executor.ts:
 * instrumentLoops): every kind of loop gets one, the code keeps its lines (stack traces point at
 * the same line) and computes the same thing, and text that only looks like a loop is left alone.
 */
import { createRequire } from 'module';
import * as vm from 'vm';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/jupyter';

const { instrumentLoops } = createRequire(import.meta.url)(`${ROOT}/dist/kernel/executor.js`) as {
  instrumentLoops: (js: string) => string;
};

/** Run `js` (a function body) with a __tslab__.checkInterrupt that counts its calls. */
function runCounting(js: string): { value: unknown; checks: number } {
  let checks = 0;
  const sandbox = { __tslab__: { checkInterrupt: () => void checks++ } };
  const value = vm.runInNewContext(`(function () {\n${js}\n})()`, sandbox);
  return { value, checks };
}

const LOOPS = `
let total = 0;
for (let i = 0; i < 3; i++) total += i;
for (const k in { a: 1, b: 2 }) { total += k.length; }
for (const v of [10, 20]) total += v;
let n = 0;
while (n < 4) n++;
do { n--; } while (n > 2);
outer: for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) { if (j === 1) continue outer; total += 100; }
for (;;) break;
while (false);
const s = "while (true) {} for (;;) {}"; // a string, not a loop
return [total, n, s];
`;

describe('loop instrumentation for interrupts', () => {
  it('puts a check into every loop body and computes the same result', () => {
    const plain = runCounting(LOOPS);
    const checked = runCounting(instrumentLoops(LOOPS));
    expect(checked.value).toEqual(plain.value);
    expect(plain.checks).toBe(0);
    // Turns: for 3, for-in 2, for-of 2, while 4, do 2, outer 2 + inner 2 x 2, for(;;) 1, while(false) 0.
    expect(checked.checks).toBe(3 + 2 + 2 + 4 + 2 + 2 + 4 + 1);
  });

  it('keeps every line where it was', () => {
    const out = instrumentLoops(LOOPS);
    expect(out.split('\n').length).toBe(LOOPS.split('\n').length);
    const lines = out.split('\n');
    LOOPS.split('\n').forEach((line, i) => {
      if (!/\b(for|while|do)\b/.test(line)) expect(lines[i]).toBe(line);
    });
    expect(out).toContain('"while (true) {} for (;;) {}"');
  });

  it('stops a loop once the check throws', () => {
    let calls = 0;
    const sandbox = {
      __tslab__: {
        checkInterrupt: () => {
          if (++calls === 5) throw new Error('interrupted');
        },
      },
    };
    const code = instrumentLoops('let turns = 0;\nwhile (true) turns++;');
    expect(() => vm.runInNewContext(code, sandbox)).toThrow('interrupted');
    expect(calls).toBe(5);
  });

  it('leaves code without loops as it is', () => {
    const js = 'const a = 1;\nfunction f() { return a + 1; }\nexports.tsLastExpr = f();\n';
    expect(instrumentLoops(js)).toBe(js);
  });
});
