// `npm run bench:load`: POST /api/run on the digits CNN at concurrency 16 for 30 s against a real
// server in a child process; prints p50/p99 latency, throughput and the error count, and exits 1
// on any error. Never part of `npm test`.
//
// The server runs with its per-client rate limit OFF: this measures what the engine and the
// queue sustain, and every request comes from one client (the limiter would answer most of them
// 429 by design; test/server.test.ts checks that it does). Options: --concurrency N --seconds S.
import { spawn } from 'child_process';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function child(): Promise<void> {
  const { serve } = require('../src/server/main') as typeof import('../src/server/main');
  const site = await serve({ port: 0, rateLimit: false });
  process.stdout.write(JSON.stringify({ url: site.url }) + '\n');
  process.on('SIGTERM', () => void site.close().then(() => process.exit(0)));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const concurrency = flag('concurrency', 16);
  const seconds = flag('seconds', 30);
  const server = spawn(process.execPath, [__filename, '--child'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (c) => {
      out += c;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line).url);
    });
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const endpoint = new URL('/api/run', url).href;
  const samples = 2000;
  const call = async (i: number) => {
    const r = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'digits-cnn', sample: i % samples }) });
    const body = (await r.json()) as { steps?: unknown[]; error?: string };
    if (r.status !== 200 || !Array.isArray(body.steps) || body.steps.length !== 15) throw new Error(`${r.status} ${body.error ?? 'bad body'}`);
  };
  for (let i = 0; i < 5; i++) await call(i); // warm-up: backend, model, PNG encoder
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await call(next++);
        latencies.push(performance.now() - t0);
      } catch (err) {
        const m = (err as Error).message;
        errors.set(m, (errors.get(m) ?? 0) + 1);
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  server.kill('SIGTERM');
  latencies.sort((a, b) => a - b);
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  console.log(`POST /api/run digits-cnn (full 15-step trace with PNGs), concurrency ${concurrency}, ${elapsed.toFixed(1)} s, rate limit off`);
  console.log(`  requests ${latencies.length + errorCount}  ok ${latencies.length}  errors ${errorCount}  throughput ${(latencies.length / elapsed).toFixed(1)} req/s`);
  console.log(`  latency p50 ${percentile(latencies, 50).toFixed(1)} ms  p90 ${percentile(latencies, 90).toFixed(1)} ms  p99 ${percentile(latencies, 99).toFixed(1)} ms  max ${latencies[latencies.length - 1]?.toFixed(1)} ms`);
  for (const [m, n] of errors) console.log(`  error x${n}: ${m}`);
  if (errorCount > 0) process.exitCode = 1;
}

if (process.argv.includes('--child')) void child();
else main().catch((err) => {
  console.error(`bench:load: ${(err as Error).message}`);
  process.exit(1);
});
