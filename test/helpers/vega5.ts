/**
 * Vega 5 and Vega-Lite 5 as JupyterLab (and the web explainer's pinned vega.min.js /
 * vega-lite.min.js) run them. Their UMD builds are loaded as the page loads them: Vega-Lite's
 * bundle asks for `vega`, and gets Vega 5 (a plain require would hand it the project's Vega 6).
 */
import * as fs from 'fs';
import { createRequire } from 'module';

const req = createRequire(__filename);

export interface Vega5 {
  vega: any;
  vegaLite: any;
}

let loaded: Vega5 | null = null;

export function vega5(): Vega5 {
  if (loaded) return loaded;
  const vega = req('vega-v5/build/vega.js');
  const source = fs.readFileSync(req.resolve('vega-lite-v5/build/vega-lite.js'), 'utf8');
  const module = { exports: {} as Record<string, unknown> };
  new Function('exports', 'module', 'require', source)(module.exports, module, (name: string) => (name === 'vega' ? vega : req(name)));
  loaded = { vega, vegaLite: module.exports };
  return loaded;
}

/** Compile and draw a Vega-Lite spec with Vega 5, collecting every warning either logs. */
export async function drawWithVega5(spec: Record<string, unknown>): Promise<{ svg: string; warnings: string[] }> {
  const { vega, vegaLite } = vega5();
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_method: string, _level: number, input: unknown[]) => {
    warnings.push(Array.from(input).map((x) => (x instanceof Error ? x.message : String(x))).join(' '));
  });
  const compiled = vegaLite.compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled, undefined, { logger }), { renderer: 'none', logger });
  try {
    return { svg: await view.toSVG(), warnings };
  } finally {
    view.finalize();
  }
}
