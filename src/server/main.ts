// `inference-lab serve`: start the web explainer. Binds 127.0.0.1 unless told otherwise.
import type { Server } from 'http';
import type { AddressInfo } from 'net';
import { createApp, type AppOptions } from './app';

export interface ServeOptions extends AppOptions {
  port?: number;
  host?: string;
}

export async function serve(options: ServeOptions = {}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const app = createApp(options);
  await app.locals.service.init();
  const host = options.host ?? '127.0.0.1';
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
