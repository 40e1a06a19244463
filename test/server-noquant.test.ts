// Without a quantize export (a build before issue 5 landed), /api/compare still validates its
// input and then answers 501 with a clear message; the rest of the site keeps working.
import { describe, expect, test, vi } from 'vitest';

vi.mock('../src/index', async (importOriginal) => {
  const original = await importOriginal<Record<string, unknown>>();
  return { ...original, quantize: undefined };
});

describe('compare without quantization', () => {
  test('/api/compare is 501 "quantization not available yet"; bad input is still 400', async () => {
    const { createApp } = await import('../src/server/app');
    const app = createApp();
    const server = await new Promise<import('http').Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const { port } = server.address() as import('net').AddressInfo;
    const post = (body: unknown) => fetch(`http://127.0.0.1:${port}/api/compare`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    try {
      const r = await post({ model: 'digits-cnn', optimization: { bits: 8 } });
      const body = await r.clone().text();
      expect(r.status, body).toBe(501);
      expect((await r.json()).error).toMatch(/quantization is not available yet/i);
      expect((await post({ model: 'digits-cnn', optimization: { bits: 5 } })).status).toBe(400);
      const models = await (await fetch(`http://127.0.0.1:${port}/api/models`)).json();
      expect(models.compare.available).toBe(false);
      expect((await fetch(`http://127.0.0.1:${port}/api/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'digits-cnn', sample: 1 }) })).status).toBe(200);
    } finally {
      server.close();
      server.closeAllConnections();
      app.locals.service.dispose();
    }
  });
});
