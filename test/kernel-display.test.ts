/**
 * Updatable displays through a headless run (nbclient, as `jupyter nbconvert --execute` does):
 * `update_display_data` replaces the earlier output in place, so a saved notebook keeps ONE
 * output per display id, in its final state — a progress bar degrades to its last line, and an
 * `update()` from a later cell rewrites the output of the cell that displayed it.
 * (In JupyterLab the same messages update the output live.)
 */
import * as fs from 'fs';
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findPython, kernelspecEnv, parseJsonOutput, PY_DIR, requirePythonModules, ROOT, runPython } from './helpers/jupyter';

interface Out {
  cell: number;
  output_type: string;
  mimes: string[];
  text: string;
}
interface RunSummary {
  errors: unknown[];
  outputs: Out[];
  failure: string | null;
}

const cell = (source: string) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source });

const CELLS = [
  // 0: the library's progress bar, ticking 40 times
  "import * as lab from 'inference-lab';\n" +
    "const bar = lab.progressBar(40, 'steps');\n" +
    'for (let i = 0; i < 40; i++) {\n' +
    '  await new Promise((r) => setTimeout(r, 5));\n' +
    '  bar.tick(1, `loss ${(1 / (i + 1)).toFixed(3)}`);\n' +
    '}\n' +
    "bar.done('finished');",
  // 1: display with an id ...
  "await lab.display({ 'text/plain': 'first version' }, { id: 'shared' });",
  // 2: ... updated from a later cell
  "await lab.update({ 'text/plain': 'second version' }, { id: 'shared' });\n'updated'",
];

let s: RunSummary;

beforeAll(async () => {
  const python = findPython();
  requirePythonModules(python, ['nbclient', 'nbformat']);
  // Inside the repository, so `import 'inference-lab'` resolves (node_modules/inference-lab -> ..).
  const dir = path.join(ROOT, 'test-artifacts', 'kernel-display');
  fs.mkdirSync(dir, { recursive: true });
  const nb = path.join(dir, 'progress.ipynb');
  const kernelspec = { display_name: 'TypeScript (Inference Lab)', language: 'typescript', name: 'inference-lab' };
  fs.writeFileSync(nb, JSON.stringify({ cells: CELLS.map(cell), metadata: { kernelspec }, nbformat: 4, nbformat_minor: 5 }));
  const r = await runPython(python, [path.join(PY_DIR, 'run_notebook.py'), nb, '--kernel', 'inference-lab', '--timeout', '120', '--out', nb], {
    env: kernelspecEnv(),
    cwd: dir,
  });
  s = parseJsonOutput<RunSummary>(r);
  if (s.failure) throw new Error(`nbclient failed:\n${s.failure}\n${r.stderr.slice(-3000)}`);
}, 240_000);

describe('updatable displays in a headless (nbconvert / nbclient) run', () => {
  it('runs without errors', () => {
    expect(s.errors).toEqual([]);
  });

  it('keeps a progress bar as one output holding its final line', () => {
    const outs = s.outputs.filter((o) => o.cell === 0);
    expect(outs.map((o) => o.output_type)).toEqual(['display_data']);
    expect(outs[0].text).toMatch(/^steps \[#{30}\] 40\/40 [\d.]+s {2}finished$/);
  });

  it('applies update() from a later cell to the earlier output', () => {
    expect(s.outputs.filter((o) => o.cell === 1).map((o) => o.text)).toEqual(['second version']);
    expect(s.outputs.filter((o) => o.cell === 2).map((o) => o.text)).toEqual(["'updated'"]);
  });
});
