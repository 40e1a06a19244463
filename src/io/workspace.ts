// The learner's own copy of the course notebooks. `inference-lab lab` opens this copy, never the
// package's notebooks/: those are committed with outputs and re-executed by the tests, so an edit
// there dirties the clone and blocks `git pull` (and in an npm install it is lost on update).
//
// Where: $INFERENCE_LAB_WORKSPACE, else $XDG_DATA_HOME/inference-lab/notebooks (default
// ~/.local/share/inference-lab/notebooks). Outside the clone, so an update (git pull, a fresh
// clone, npm update) never touches it and it never touches git; one per user, so learners on a
// shared machine (JupyterHub homes) each get their own.
//
// Sync rules, run at every start: a course notebook the copy lacks is copied in; one the learner
// never edited (its bytes still equal the course version it was copied from) follows the course
// when the course changes; one the learner edited is never overwritten (resetNotebook takes the
// course's version and keeps the edited file beside it).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** What the copy remembers: for each notebook, the hash of the course version it was copied from. */
const MANIFEST = '.course-versions.json';

export function defaultWorkspaceDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.INFERENCE_LAB_WORKSPACE) return path.resolve(env.INFERENCE_LAB_WORKSPACE);
  const data = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(data, 'inference-lab', 'notebooks');
}

export interface SyncReport {
  dir: string;
  /** Copied in: new to this copy. */
  added: string[];
  /** Unedited notebooks that took the course's newer version. */
  updated: string[];
  /** Edited by the learner while the course changed: kept as they are. */
  keptEdited: string[];
}

const hash = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function courseNotebooks(courseDir: string): string[] {
  return fs.readdirSync(courseDir).filter((f) => f.endsWith('.ipynb')).sort();
}

function readManifest(dir: string): Record<string, string> {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

function writeManifest(dir: string, manifest: Record<string, string>): void {
  fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
}

/**
 * Notebooks import the library by name (`import * as lab from 'inference-lab'`): Node and tslab's
 * type checker look in node_modules folders above the notebook, so the copy gets a link to the package.
 */
function linkPackage(dir: string, packageRoot: string): void {
  const link = path.join(dir, 'node_modules', 'inference-lab');
  let current: string | null = null;
  try {
    current = fs.readlinkSync(link);
  } catch {
    current = null;
  }
  if (current === packageRoot) return;
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.rmSync(link, { force: true, recursive: false });
  fs.symlinkSync(packageRoot, link, 'dir');
}

/** Create or bring up to date the learner's copy of `courseDir` in `dir` (see the rules above). */
export function syncWorkspace(courseDir: string, dir: string, packageRoot: string): SyncReport {
  fs.mkdirSync(dir, { recursive: true });
  const manifest = readManifest(dir);
  const report: SyncReport = { dir, added: [], updated: [], keptEdited: [] };
  for (const name of courseNotebooks(courseDir)) {
    const course = path.join(courseDir, name);
    const mine = path.join(dir, name);
    const courseHash = hash(course);
    if (!fs.existsSync(mine)) {
      fs.copyFileSync(course, mine);
      manifest[name] = courseHash;
      report.added.push(name);
      continue;
    }
    if (manifest[name] === courseHash) continue; // the course has not changed since the copy
    const mineHash = hash(mine);
    if (mineHash === courseHash) manifest[name] = courseHash;
    else if (manifest[name] !== undefined && mineHash === manifest[name]) {
      fs.copyFileSync(course, mine); // never edited: follow the course
      manifest[name] = courseHash;
      report.updated.push(name);
    } else report.keptEdited.push(name);
  }
  writeManifest(dir, manifest);
  linkPackage(dir, packageRoot);
  return report;
}

/** The course notebook `which` names: its file name, or its number ("4", "04"). */
export function findCourseNotebook(courseDir: string, which: string): string {
  const names = courseNotebooks(courseDir);
  const byNumber = /^\d+$/.test(which) ? names.filter((n) => n.startsWith(`${which.padStart(2, '0')}-`)) : [];
  const match = byNumber.length ? byNumber : names.filter((n) => n === which || n === `${which}.ipynb`);
  if (match.length !== 1) throw new Error(`No course notebook "${which}". Course notebooks: ${names.join(', ')}.`);
  return match[0];
}

/**
 * Put the course's version of one notebook back in the copy. The learner's edited file is kept
 * beside it (NAME.before-reset-<time>.ipynb), so a reset never loses work.
 */
export function resetNotebook(courseDir: string, dir: string, which: string, now = new Date()): { name: string; path: string; backup: string | null } {
  const name = findCourseNotebook(courseDir, which);
  fs.mkdirSync(dir, { recursive: true });
  const mine = path.join(dir, name);
  const course = path.join(courseDir, name);
  let backup: string | null = null;
  if (fs.existsSync(mine) && hash(mine) !== hash(course)) {
    backup = path.join(dir, `${name.replace(/\.ipynb$/, '')}.before-reset-${now.toISOString().replace(/[:.]/g, '-')}.ipynb`);
    fs.copyFileSync(mine, backup);
  }
  fs.copyFileSync(course, mine);
  const manifest = readManifest(dir);
  manifest[name] = hash(course);
  writeManifest(dir, manifest);
  return { name, path: mine, backup };
}
