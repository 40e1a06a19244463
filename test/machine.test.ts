// lab.machine(): the one line a notebook prints beside its timings.
import * as os from 'os';
import { expect, test } from 'vitest';
import { initBackend, machine, machineInfo } from '../src/index';

test('names the CPU, cores, memory, Node and the backend running', async () => {
  const before = machineInfo();
  expect(before.cpu).toBe(os.cpus()[0].model.replace(/\s+/g, ' ').trim());
  expect(before.cores).toBe(os.availableParallelism());
  expect(before.memoryGiB).toBeCloseTo(os.totalmem() / 2 ** 30, 1);
  expect(before.node).toBe(process.version);
  const name = await initBackend();
  const line = machine();
  expect(line).toContain(`${os.availableParallelism()} core`);
  expect(line).toContain(`Node ${process.version}`);
  // The native backend is named in full (package, TensorFlow version, device), as everywhere else.
  expect(line).toMatch(name === 'tensorflow' ? /TensorFlow\.js tensorflow: @tensorflow\/tfjs-node(-gpu)? \d+\.\d+\.\d+, TensorFlow \d+\.\d+\.\d+, (CPU|GPU.*)$/ : new RegExp(`TensorFlow\\.js ${name}$`));
});
