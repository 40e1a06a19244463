// A tfjs GPT forward served over stdin/stdout for bench/forward-workers.ts: loads the model saved
// in argv[2] on the backend INFERENCE_LAB_BACKEND names (TensorFlow reads TF_NUM_INTRAOP_THREADS
// as it loads, hence a process per thread count), prints one JSON line, then runs one forward of
// the ids in argv[3] per line read and prints its own ms.
import * as readline from 'readline';
import { tf } from '../src/engine/tf';
import { initBackend, backendLabel } from '../src/engine/backend';
import { elapsedMs } from '../src/engine/timing';
import { GPT } from '../src/models/gpt';

async function main(): Promise<void> {
  await initBackend();
  const model = GPT.load(process.argv[2]);
  const ids = process.argv[3].split(',').map(Number);
  const input = tf.tensor2d(ids, [1, ids.length], 'int32'); // [1, pos]
  for (let i = 0; i < 2; i++) model.forward(input).dispose(); // warm-up
  const last = tf.tidy(() => Array.from(tf.slice(model.forward(input), [0, ids.length - 1, 0], [1, 1, 16]).dataSync()));
  console.log(JSON.stringify({ ready: true, backend: backendLabel(), last_logits: last }));
  for await (const _ of readline.createInterface({ input: process.stdin })) {
    console.log(JSON.stringify({ ms: elapsedMs(() => model.forward(input).dispose()).ms }));
  }
  input.dispose();
  model.dispose();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
