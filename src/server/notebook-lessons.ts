// A lesson is made from its notebook (`npm run lessons`, scripts/make-lessons.ts): the notebook's
// markdown and its committed outputs, so the prose a reader sees on the web or on GitHub is the
// prose and the numbers of the notebook. The rules (also in the README, "Lessons"):
//
// - Markdown cells are copied as they are, in order. Links to another notebook (`04-x.ipynb`)
//   become links to its lesson (`04-x.md`).
// - Code is not shown (the notebook is the place to read and run it); its outputs are:
//     stdout                 -> a ```text block (consecutive stream outputs of a cell joined)
//     a Vega-Lite v5 chart   -> a ```vega-lite block naming the output it comes from
//                               (`notebook=NN-x.ipynb cell=<cell id> output=<index>`) and holding
//                               the output's text/plain: the web explainer draws the notebook's
//                               own spec live, with the same sliders and hovers as JupyterLab;
//                               GitHub shows the text (the notebook shows its PNG)
//     other text/plain       -> a ```text block
//     stderr                 -> left out (warnings of libraries, not the lesson)
//     an error               -> `npm run lessons` stops: re-execute the notebook first
// - Cell tags (cell metadata "tags", set in JupyterLab's property inspector):
//     lesson-only            markdown only the lesson shows. JupyterLab has no way to hide a
//                            cell by tag, so wrap the whole cell in <!-- ... --> to keep it out of
//                            the notebook's view; the lesson unwraps it.
//     hide-from-lesson       the lesson leaves the cell out (markdown, or code with its outputs)
//     show-code-in-lesson    the lesson also shows the code of this cell, above its outputs
//     solution               an exercise's worked answer: folded in the notebook (source hidden),
//                            so the lesson folds its code and outputs too, in <details> (GitHub and
//                            the web explainer both draw it closed, with "Solution" to click)
// - After the first cell (the title), one line says where the lesson comes from.
//
// No images are written: 80 charts as PNG at 1x are 4.3 MB and change at every re-execution,
// while GitHub already shows each notebook's PNG outputs.
import * as fs from 'fs';
import * as path from 'path';

export const VEGA_LITE_MIME = 'application/vnd.vegalite.v5+json';

/** The cell tags the lesson generator reads (see the comment at the top of this file). */
export const LESSON_TAGS = {
  lessonOnly: 'lesson-only',
  hide: 'hide-from-lesson',
  showCode: 'show-code-in-lesson',
  solution: 'solution',
} as const;

/** The two HTML lines that fold a solution; the web explainer lets exactly these through. */
export const SOLUTION_OPEN = '<details><summary>Solution</summary>';
export const SOLUTION_CLOSE = '</details>';

/** A notebook file the generator turns into a lesson: `NN-words.ipynb`. */
export const NOTEBOOK_FILE = /^([0-9]{2}-[a-z0-9-]+)\.ipynb$/;

type MultiLine = string | string[];

export interface NotebookOutput {
  output_type: 'stream' | 'display_data' | 'execute_result' | 'error' | string;
  name?: string;
  text?: MultiLine;
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

export interface NotebookCell {
  id?: string;
  cell_type: 'markdown' | 'code' | 'raw' | string;
  source: MultiLine;
  metadata?: { tags?: string[]; [key: string]: unknown };
  outputs?: NotebookOutput[];
}

export interface Notebook {
  cells: NotebookCell[];
  metadata?: Record<string, unknown>;
  nbformat?: number;
  nbformat_minor?: number;
}

/** Where a lesson's chart comes from: an output of a cell of a notebook. */
export interface ChartRef {
  notebook: string;
  /** The cell's id, or `#<index>` for a notebook without cell ids (nbformat < 4.5). */
  cell: string;
  output: number;
}

const join = (s: MultiLine | undefined): string => (Array.isArray(s) ? s.join('') : (s ?? ''));

export function readNotebook(file: string): Notebook {
  let nb: Notebook;
  try {
    nb = JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;
  } catch (err) {
    throw new Error(`${file}: not a readable notebook (${(err as Error).message})`);
  }
  if (!nb || !Array.isArray(nb.cells)) throw new Error(`${file}: not a notebook (expected a JSON object with "cells")`);
  return nb;
}

/** The info string of a chart block: `vega-lite notebook=NN-x.ipynb cell=<id> output=<n>`. */
export function formatChartRef(ref: ChartRef): string {
  return `vega-lite notebook=${ref.notebook} cell=${ref.cell} output=${ref.output}`;
}

/** The chart a code block's info string names, or null when it names none. */
export function parseChartRef(info: string): ChartRef | null {
  const m = /^vega-lite\s+notebook=([0-9]{2}-[a-z0-9-]+\.ipynb)\s+cell=(#?[A-Za-z0-9_-]{1,64})\s+output=(\d{1,4})\s*$/.exec(info.trim());
  return m ? { notebook: m[1], cell: m[2], output: Number(m[3]) } : null;
}

const cellKey = (cell: NotebookCell, index: number): string => cell.id ?? `#${index}`;

/** The output a chart reference names, or an Error saying what is missing. */
export function findOutput(nb: Notebook, ref: ChartRef): NotebookOutput | Error {
  const index = nb.cells.findIndex((c, i) => cellKey(c, i) === ref.cell);
  if (index < 0) return new Error(`${ref.notebook} has no cell ${ref.cell}: run \`npm run lessons\` again`);
  const out = nb.cells[index].outputs?.[ref.output];
  if (!out) return new Error(`${ref.notebook} cell ${ref.cell} has no output ${ref.output}: run \`npm run lessons\` again`);
  if (!out.data || typeof out.data[VEGA_LITE_MIME] !== 'object') return new Error(`${ref.notebook} cell ${ref.cell} output ${ref.output} is not a Vega-Lite chart`);
  return out;
}

/** A fenced block whose fence is longer than any run of backticks inside it. */
function fence(info: string, body: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}${info}\n${body}\n${f}`;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const cleanText = (s: string): string => s.replace(ANSI, '').replace(/\r\n?/g, '\n').replace(/[ \t]+$/gm, '').replace(/^\n+|\n+$/g, '');

/** `[a](04-x.ipynb#y)` -> `[a](04-x.md#y)`: from a notebook's markdown to its lesson's neighbours. */
function relink(markdown: string): string {
  return markdown.replace(/\]\((?:\.\/)?([0-9]{2}-[a-z0-9-]+)\.ipynb(#[^)\s]*)?\)/g, (_, slug: string, hash: string | undefined) => `](${slug}.md${hash ?? ''})`);
}

/** A lesson-only cell may be wrapped in <!-- --> so that Jupyter shows nothing: unwrap it. */
function unwrapComment(markdown: string): string {
  const m = /^\s*<!--([\s\S]*)-->\s*$/.exec(markdown);
  return m && !m[1].includes('-->') ? m[1].replace(/^\n+|\s+$/g, '') : markdown;
}

const SOURCE_LINE = (notebook: string) =>
  `*This lesson is made from the notebook [${notebook}](../notebooks/${notebook}) by \`npm run lessons\`: its text and the outputs of its last run. ` +
  'The web explainer (`inference-lab serve`) draws each chart live; on GitHub a chart appears as its text version, and the notebook shows its picture.*';

/**
 * The lesson markdown of a notebook. `file` is the notebook's file name (`NN-words.ipynb`).
 * Throws on an error output (re-execute the notebook) or an unknown output kind.
 */
export function lessonFromNotebook(nb: Notebook, file: string): string {
  if (!NOTEBOOK_FILE.test(file)) throw new Error(`${file}: a lesson notebook is named NN-words.ipynb`);
  const blocks: string[] = [`<!-- Generated by \`npm run lessons\` from notebooks/${file}: edit the notebook, not this file. -->`];
  let sourceSaid = false;
  nb.cells.forEach((cell, index) => {
    const tags = Array.isArray(cell.metadata?.tags) ? cell.metadata!.tags : [];
    const where = `${file} cell ${index}${cell.id ? ` (${cell.id})` : ''}`;
    if (tags.includes(LESSON_TAGS.hide)) return;
    if (cell.cell_type === 'markdown') {
      let text = join(cell.source);
      if (tags.includes(LESSON_TAGS.lessonOnly)) text = unwrapComment(text);
      text = relink(text).replace(/\s+$/, '');
      if (text) blocks.push(text);
      if (!sourceSaid) blocks.push(SOURCE_LINE(file));
      sourceSaid = true;
      return;
    }
    if (cell.cell_type !== 'code') return;
    if (tags.includes(LESSON_TAGS.lessonOnly)) throw new Error(`${where}: "${LESSON_TAGS.lessonOnly}" is for markdown cells`);
    const solution = tags.includes(LESSON_TAGS.solution);
    if (solution) blocks.push(SOLUTION_OPEN);
    if (tags.includes(LESSON_TAGS.showCode) || solution) {
      const code = join(cell.source).replace(/\s+$/, '');
      if (code) blocks.push(fence('ts', code));
    }
    let stdout: string[] = [];
    const flush = () => {
      const text = cleanText(stdout.join(''));
      if (text) blocks.push(fence('text', text));
      stdout = [];
    };
    (cell.outputs ?? []).forEach((out, k) => {
      if (out.output_type === 'stream') {
        if (out.name !== 'stderr') stdout.push(join(out.text));
        return;
      }
      flush();
      if (out.output_type === 'error') {
        throw new Error(`${where}: an error output (${out.ename ?? 'Error'}: ${String(out.evalue ?? '').slice(0, 200)}); re-execute the notebook before making its lesson`);
      }
      const data = out.data ?? {};
      const text = cleanText(join(data['text/plain'] as MultiLine | undefined));
      if (typeof data[VEGA_LITE_MIME] === 'object' && data[VEGA_LITE_MIME] !== null) {
        blocks.push(fence(formatChartRef({ notebook: file, cell: cellKey(cell, index), output: k }), text || 'chart'));
      } else if (text) {
        blocks.push(fence('text', text));
      } else if (Object.keys(data).length > 0) {
        throw new Error(`${where}: output ${k} has neither a Vega-Lite spec nor text/plain (${Object.keys(data).join(', ')}); give it a text/plain`);
      }
    });
    flush();
    if (solution) blocks.push(SOLUTION_CLOSE);
  });
  if (!sourceSaid) blocks.push(SOURCE_LINE(file));
  return blocks.join('\n\n') + '\n';
}

/** Lesson file name of a notebook file name. */
export const lessonFileOf = (notebookFile: string): string => notebookFile.replace(/\.ipynb$/, '.md');

/** The notebooks of a directory that make lessons, in order. */
export function lessonNotebooks(notebooksDir: string): string[] {
  if (!fs.existsSync(notebooksDir)) return [];
  return fs.readdirSync(notebooksDir).filter((f) => NOTEBOOK_FILE.test(f)).sort();
}

/** Every lesson of `notebooksDir` as it should be: lesson file name -> markdown. */
export function makeLessons(notebooksDir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of lessonNotebooks(notebooksDir)) out.set(lessonFileOf(file), lessonFromNotebook(readNotebook(path.join(notebooksDir, file)), file));
  return out;
}
