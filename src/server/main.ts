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

const BIND_REASONS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another server is listening there; pick another --port)',
  EACCES: 'permission denied (ports below 1024 need privileges; pick another --port)',
  EADDRNOTAVAIL: 'the address is not available on this machine (check --host)',
  ENOTFOUND: 'the host name does not resolve (check --host)',
};

/** A bind failure in one line: which address, and why. */
function bindError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const shown = host.includes(':') ? `[${host}]` : host;
  const why = (err.code && BIND_REASONS[err.code]) ?? err.message;
  return new Error(`cannot listen on ${shown}:${port}: ${why}${err.code ? ` (${err.code})` : ''}.`);
}

export async function serve(options: ServeOptions = {}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const host = options.host ?? '127.0.0.1';
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(host);
  const app = createApp({ allowedHosts: loopback ? LOOPBACK_NAMES : undefined, ...options });
  await app.locals.service.init();
  const port = options.port ?? 8080;
  const server = await new Promise<Server>((resolve, reject) => {
    // Express 5 hands a bind error to this callback too (then there is no address to read).
    const s = app.listen(port, host, (err?: Error) => (err ? fail(err) : resolve(s)));
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      app.locals.service.dispose();
      reject(bindError(err as NodeJS.ErrnoException, host, port));
    };
    s.once('error', fail);
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
