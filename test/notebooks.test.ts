/**
 * Every lesson notebook runs top to bottom on the real kernel (nbclient, kernel "inference-lab",
 * cwd = the notebook's directory, 300 s per cell) without an error output, and shows at least
 * one picture (image/png). Executed copies go to test-artifacts/notebooks/ for inspection.
 * INFERENCE_LAB_NOTEBOOKS_DIR points the test at another directory.
 */
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { findPython, kernelspecEnv, parseJsonOutput, PY_DIR, requirePythonModules, ROOT, runPython } from './helpers/jupyter';

const NOTEBOOKS_DIR = process.env.INFERENCE_LAB_NOTEBOOKS_DIR ?? path.join(ROOT, 'notebooks');
const CELL_TIMEOUT_S = 300;

const notebooks = fs.existsSync(NOTEBOOKS_DIR)
  ? fs.readdirSync(NOTEBOOKS_DIR).filter((f) => f.endsWith('.ipynb')).sort()
  : [];

interface RunSummary {
  cells: number;
  errors: { cell: number; ename: string; evalue: string }[];
  mime_types: string[];
  outputs: { cell: number; output_type: string; mimes: string[]; text: string }[];
  failure: string | null;
}

const VEGA_LITE = 'application/vnd.vegalite.v5+json';

/**
 * Charts must render where Vega does not run: GitHub's notebook view shows image/png (no Vega,
 * no JavaScript), classic Notebook 6 shows image/svg+xml or image/png. So every output that
 * carries a Vega-Lite spec also carries both pictures, and no output carries text/html (which
 * JupyterLab would rank above the Vega view).
 */
function chartProblems(s: RunSummary): string[] {
  const problems: string[] = [];
  for (const o of s.outputs) {
    if (o.mimes.includes('text/html')) problems.push(`cell ${o.cell}: ${o.output_type} has text/html`);
    if (!o.mimes.includes(VEGA_LITE)) continue;
    for (const need of ['image/png', 'image/svg+xml', 'text/plain']) {
      if (!o.mimes.includes(need)) problems.push(`cell ${o.cell}: a Vega-Lite ${o.output_type} lacks ${need}`);
    }
  }
  return problems;
}

describe('notebooks', () => {
  if (notebooks.length === 0) {
    it('has no notebooks yet', () => {
      expect(notebooks).toEqual([]);
    });
    return;
  }

  it.each(notebooks)(
    '%s runs without errors and shows a PNG',
    async (name) => {
      const python = findPython();
      requirePythonModules(python, ['nbclient', 'nbformat']);
      const file = path.join(NOTEBOOKS_DIR, name);
      const out = path.join(ROOT, 'test-artifacts', 'notebooks', name);
      const r = await runPython(
        python,
        [path.join(PY_DIR, 'run_notebook.py'), file, '--kernel', 'inference-lab', '--timeout', String(CELL_TIMEOUT_S), '--cwd', NOTEBOOKS_DIR, '--out', out],
        { env: kernelspecEnv(), cwd: NOTEBOOKS_DIR },
      );
      const s = parseJsonOutput<RunSummary>(r);
      expect(s.failure, `nbclient failed:\n${s.failure}\nstderr:\n${r.stderr.slice(-3000)}`).toBeNull();
      expect(s.errors, `error outputs in ${name}`).toEqual([]);
      expect(s.mime_types, `${name} shows no image/png`).toContain('image/png');
      const charts = s.outputs.filter((o) => o.mimes.includes(VEGA_LITE));
      expect(charts.length, `${name} has no chart output`).toBeGreaterThan(0);
      expect(chartProblems(s), `${name}: charts that GitHub / Notebook 6 could not show`).toEqual([]);
    },
    30 * 60_000,
  );
});
