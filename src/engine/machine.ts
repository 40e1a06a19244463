// The machine a measurement was taken on, in one line: timings and throughputs in the notebooks
// mean little without it (a notebook prints `lab.machine()` beside its timings).
import * as os from 'os';
import { tf } from './tf';
import { backendLabel } from './backend';

export interface MachineInfo {
  /** CPU model as the OS reports it, e.g. "AMD EPYC". */
  cpu: string;
  /** Logical cores this process may use. */
  cores: number;
  /** Total memory, GiB. */
  memoryGiB: number;
  /** e.g. "linux x64". */
  platform: string;
  /** Node's version, e.g. "v20.20.2". */
  node: string;
  /** The TensorFlow.js backend running now (the native one with package, TensorFlow version and device), or null before one is chosen. */
  backend: string | null;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  let backend: string | null = null;
  try {
    backend = tf.getBackend() ? backendLabel() : null;
  } catch {
    backend = null;
  }
  return {
    cpu: (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim(),
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.arch()}`,
    node: process.version,
    backend,
  };
}

/** One line naming this machine, e.g. "AMD EPYC, 2 cores, 23.5 GiB, linux x64, Node v20.20.2, TensorFlow.js wasm". */
export function machine(): string {
  const m = machineInfo();
  return `${m.cpu}, ${m.cores} core${m.cores === 1 ? '' : 's'}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}, TensorFlow.js ${m.backend ?? '(no backend yet)'}`;
}
