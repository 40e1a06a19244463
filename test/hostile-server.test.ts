// Hostile requests and conditions against the web server: each case asserts the clear answer
// AND that the server still serves afterwards.
import * as net from 'net';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../src/server/main';

const cli = path.join(path.resolve(__dirname, '..'), 'dist', 'src', 'cli', 'main.js');
let site: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  site = await serve({ port: 0, host: '127.0.0.1', rateLimit: false });
});
afterAll(async () => {
  await site?.close();
});

const get = (p: string) => fetch(new URL(p, site.url));
const post = (p: string, body: unknown) => fetch(new URL(p, site.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
async function stillServes(): Promise<void> {
  const r = await get('/api/models');
  expect(r.status).toBe(200);
  expect(((await r.json()) as { models: unknown[] }).models.length).toBeGreaterThan(0);
}

describe('hostile server', () => {
  it('/vendor/ names of Object.prototype members are 404, not 500', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const r = await get(`/vendor/${name}`);
      expect(r.status, name).toBe(404);
    }
    await stillServes();
  });

  it('serve on a port in use: one line naming the address and why, exit non-zero', async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
    try {
      await expect(serve({ port, host: '127.0.0.1' })).rejects.toThrow(`cannot listen on 127.0.0.1:${port}: the address is already in use`);
      const r = spawnSync(process.execPath, [cli, 'serve', '--port', String(port)], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^inference-lab: cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use.*\\(EADDRINUSE\\)\\.$`))]);
    } finally {
      blocker.close();
    }
    await stillServes();
  });

  it('language ID refuses words outside its alphabet ("日本語", "---") instead of answering a language', async () => {
    for (const text of ['日本語', '---']) {
      const r = await post('/api/run', { model: 'langid-lstm', text });
      expect(r.status, text).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(/is outside the alphabet langid-lstm knows/);
    }
    const ok = await post('/api/run', { model: 'langid-lstm', text: 'house' });
    expect(ok.status).toBe(200);
    await stillServes();
  });
});
