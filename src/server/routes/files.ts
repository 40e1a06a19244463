// Static files: the client scripts and styles (/static), Vega from node_modules (/vendor), and the
// only data the site may read, lessons/ and assets/ (/files). Nothing else on disk is reachable.
import * as fs from 'fs';
import * as path from 'path';
import type { Router, Request, Response } from 'express';
import { resolveInside } from '../security';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.json': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

function send(res: Response, file: string, maxAge: number): void {
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', `public, max-age=${maxAge}`);
  // SVG can carry script: served files never run in this origin's context.
  if (type === 'image/svg+xml') res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
  if (type === 'application/octet-stream') res.setHeader('Content-Disposition', 'attachment');
  res.send(fs.readFileSync(file));
}

const notFound = (res: Response) => res.status(404).type('text/plain').send('Not found');

/** Serve files under `root` at `/<prefix>/*`, through resolveInside (no traversal, no dot files). */
function directory(root: string, maxAge: number) {
  return (req: Request, res: Response) => {
    // req.path is already URL-decoded once by Express routing? No: it is the raw path; decode here.
    const rel = req.path.replace(/^\/+/, '');
    const file = resolveInside(root, rel);
    if (!file) return notFound(res);
    send(res, file, maxAge);
  };
}

/** vega-interpreter ships as an ES module importing vega-util; expose it as a global for classic scripts. */
function interpreterScript(file: string): string {
  const source = fs.readFileSync(file, 'utf8');
  const body = source
    .replace(/^import\s*\{([^}]*)\}\s*from\s*'vega-util';?/m, (_, names: string) => `const {${names}} = globalThis.vega;`)
    .replace(/^export\s*\{\s*expression as expressionInterpreter\s*\};?/m, 'globalThis.vegaInterpreter = { expressionInterpreter: expression };');
  if (body.includes('import ') && /^import /m.test(body)) throw new Error(`${file}: unexpected imports; cannot wrap vega-interpreter`);
  return `(function () {\n${body}\n})();\n`;
}

/** Routes added to `r` (a Router made by the caller, so this module loads no Express code). */
export function filesRouter(r: Router, options: { root: string; publicDir: string; lessonsDir: string; assetsDir: string }): Router {
  const modules = path.join(options.root, 'node_modules');
  const resolveModule = (spec: string): string => {
    for (const base of [modules, path.join(__dirname, '..', '..', '..', 'node_modules')]) {
      const p = path.join(base, spec);
      if (fs.existsSync(p)) return p;
    }
    return require.resolve(spec);
  };
  // A fixed list: /vendor serves these and nothing else from node_modules. The browser gets the
  // Vega 5 family, pinned (vega and vega-lite as the npm aliases vega-v5 and vega-lite-v5, since
  // the library draws SVG and PNG in Node with vega / vega-lite 6): every chart is a Vega-Lite v5
  // spec, the MIME type JupyterLab draws with this same family, so a chart behaves on a page as
  // in the notebook, and vega-embed has no version mismatch to warn about.
  const vendor: Record<string, string> = {
    'vega.min.js': 'vega-v5/build/vega.min.js',
    'vega-lite.min.js': 'vega-lite-v5/build/vega-lite.min.js',
    'vega-embed.min.js': 'vega-embed/build/vega-embed.min.js',
  };
  let interpreter: string | null = null;
  r.get('/vendor/vega-interpreter.js', (_req, res) => {
    interpreter ??= interpreterScript(resolveModule('vega-interpreter/build/vega-interpreter.module.js'));
    res.type('text/javascript; charset=utf-8').setHeader('Cache-Control', 'public, max-age=86400');
    res.send(interpreter);
  });
  r.get('/vendor/:name', (req, res) => {
    const name = String(req.params.name);
    const spec = Object.hasOwn(vendor, name) ? vendor[name] : undefined; // not constructor, __proto__, ...
    if (!spec) return notFound(res);
    send(res, resolveModule(spec), 86400);
  });
  r.use('/static', directory(options.publicDir, 300));
  r.use('/files/lessons', directory(options.lessonsDir, 60));
  r.use('/files/assets', directory(options.assetsDir, 60));
  return r;
}
