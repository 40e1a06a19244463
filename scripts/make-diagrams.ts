// Writes every architecture diagram as SVG and PNG: `npm run diagrams` (to docs/diagrams/), or
// `node dist/scripts/make-diagrams.js OUT_DIR`. The notebooks show the same pictures through
// `lab.diagram(name)`; these files are for the README, the lessons and for looking at.
import * as fs from 'fs';
import * as path from 'path';
import { DIAGRAM_NAMES, diagramSvg } from '../src/viz/diagrams';
import { svgToPng } from '../src/viz/render';

const ROOT = path.resolve(__dirname, '..', '..');
const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs', 'diagrams'));
fs.mkdirSync(out, { recursive: true });
for (const name of DIAGRAM_NAMES) {
  const svg = diagramSvg(name);
  fs.writeFileSync(path.join(out, `${name}.svg`), svg + '\n');
  fs.writeFileSync(path.join(out, `${name}.png`), svgToPng(svg));
  console.log(`${path.relative(process.cwd(), path.join(out, name))}.svg / .png`);
}
