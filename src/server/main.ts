// `inference-lab serve`: start the web explainer. Binds 127.0.0.1 unless told otherwise.
import type { Server } from 'http';
import type { AddressInfo } from 'net';
import { createApp, type AppOptions } from './app';

export interface ServeOptions extends AppOptions {
  port?: number;
  host?: string;
}

/** Names a browser uses for this machine; with a loopback bind, only these may appear in Host. */
export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export async function serve(options: ServeOptions = {}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const host = options.host ?? '127.0.0.1';
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(host);
  const app = createApp({ allowedHosts: loopback ? LOOPBACK_NAMES : undefined, ...options });
  await app.locals.service.init();
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port ?? 8080, host, () => resolve(s));
    s.once('error', reject);
  });
  // Slow clients cannot hold connections forever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shown}:${address.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        app.locals.service.dispose();
      }),
  };
}
