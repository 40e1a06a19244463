// The learner's copy of the notebooks: created on first start, kept across course updates
// (edited notebooks never overwritten, unedited ones follow the course), one notebook reset on demand.
import { describe, it, expect, beforeEach } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { syncWorkspace, resetNotebook, defaultWorkspaceDir, findCourseNotebook } from '../src/io/workspace';

let root: string;
let course: string;
let mine: string;
const pkg = path.resolve(__dirname, '..');
const nb = (text: string) => JSON.stringify({ cells: [{ cell_type: 'markdown', metadata: {}, source: text }], metadata: {}, nbformat: 4, nbformat_minor: 5 });
const read = (dir: string, name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'il-workspace-'));
  course = path.join(root, 'course');
  mine = path.join(root, 'home', 'notebooks');
  fs.mkdirSync(course);
  fs.writeFileSync(path.join(course, '01-first.ipynb'), nb('first v1'));
  fs.writeFileSync(path.join(course, '02-second.ipynb'), nb('second v1'));
  fs.writeFileSync(path.join(course, 'README.md'), 'not a notebook');
});

describe('the learner workspace', () => {
  it('first start copies every course notebook and links the package for `import "inference-lab"`', () => {
    const r = syncWorkspace(course, mine, pkg);
    expect(r.added).toEqual(['01-first.ipynb', '02-second.ipynb']);
    expect(read(mine, '01-first.ipynb')).toBe(read(course, '01-first.ipynb'));
    expect(fs.existsSync(path.join(mine, 'README.md'))).toBe(false);
    expect(fs.realpathSync(path.join(mine, 'node_modules', 'inference-lab'))).toBe(fs.realpathSync(pkg));
    expect(fs.existsSync(path.join(mine, 'node_modules', 'inference-lab', 'package.json'))).toBe(true);
  });

  it('a course update adds new notebooks and updates unedited ones, but never overwrites an edit', () => {
    syncWorkspace(course, mine, pkg);
    fs.writeFileSync(path.join(mine, '01-first.ipynb'), nb('first, my notes'));
    fs.writeFileSync(path.join(course, '01-first.ipynb'), nb('first v2'));
    fs.writeFileSync(path.join(course, '02-second.ipynb'), nb('second v2'));
    fs.writeFileSync(path.join(course, '03-third.ipynb'), nb('third v1'));
    const r = syncWorkspace(course, mine, pkg);
    expect(r.added).toEqual(['03-third.ipynb']);
    expect(r.updated).toEqual(['02-second.ipynb']);
    expect(r.keptEdited).toEqual(['01-first.ipynb']);
    expect(read(mine, '01-first.ipynb')).toContain('my notes');
    expect(read(mine, '02-second.ipynb')).toContain('second v2');
    // A second start with nothing new changes nothing and keeps the edit.
    const again = syncWorkspace(course, mine, pkg);
    expect([again.added, again.updated]).toEqual([[], []]);
    expect(read(mine, '01-first.ipynb')).toContain('my notes');
  });

  it('a notebook the learner deleted comes back on the next start', () => {
    syncWorkspace(course, mine, pkg);
    fs.rmSync(path.join(mine, '02-second.ipynb'));
    expect(syncWorkspace(course, mine, pkg).added).toEqual(['02-second.ipynb']);
  });

  it('reset-notebook takes the course version back and keeps the edited file beside it', () => {
    syncWorkspace(course, mine, pkg);
    fs.writeFileSync(path.join(mine, '01-first.ipynb'), nb('first, my notes'));
    fs.writeFileSync(path.join(course, '01-first.ipynb'), nb('first v2'));
    const r = resetNotebook(course, mine, '1', new Date('2026-12-06T17:00:00Z'));
    expect(r.name).toBe('01-first.ipynb');
    expect(read(mine, '01-first.ipynb')).toContain('first v2');
    expect(fs.readFileSync(r.backup!, 'utf8')).toContain('my notes');
    expect(path.dirname(r.backup!)).toBe(mine);
    // After a reset the notebook follows the course again.
    fs.writeFileSync(path.join(course, '01-first.ipynb'), nb('first v3'));
    expect(syncWorkspace(course, mine, pkg).updated).toEqual(['01-first.ipynb']);
    // Resetting an unedited notebook makes no backup; an unknown one says what exists.
    expect(resetNotebook(course, mine, '02-second.ipynb').backup).toBeNull();
    expect(() => findCourseNotebook(course, '7')).toThrow(/01-first.ipynb, 02-second.ipynb/);
  });

  it('lives outside the clone: $INFERENCE_LAB_WORKSPACE, else the XDG data folder', () => {
    expect(defaultWorkspaceDir({ INFERENCE_LAB_WORKSPACE: '/tmp/x' })).toBe('/tmp/x');
    expect(defaultWorkspaceDir({ XDG_DATA_HOME: '/data' })).toBe('/data/inference-lab/notebooks');
    expect(defaultWorkspaceDir({})).toBe(path.join(os.homedir(), '.local', 'share', 'inference-lab', 'notebooks'));
  });
});
