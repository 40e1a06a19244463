import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ensureSelfLink } from '../kernel/install';

describe('the self link notebooks import the library through', () => {
  it('is created when missing (npm removes it on every install of another package) and then left alone', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'selflink-'));
    fs.writeFileSync(path.join(root, 'package.json'), '{"name": "inference-lab"}');
    expect(ensureSelfLink(root)).toBe('created');
    const link = path.join(root, 'node_modules', 'inference-lab');
    expect(fs.realpathSync(link)).toBe(fs.realpathSync(root));
    expect(JSON.parse(fs.readFileSync(path.join(link, 'package.json'), 'utf8')).name).toBe('inference-lab');
    expect(ensureSelfLink(root)).toBe('-> ..');
  });
});
