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
  failure: string | null;
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
    },
    30 * 60_000,
  );
});
