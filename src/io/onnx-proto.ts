// A minimal ONNX writer: enough protobuf to build small graphs (QuantizeLinear, DequantizeLinear,
// MatMul, Conv ...) and run them in ONNX Runtime. Field numbers follow onnx/onnx.proto.

/** ONNX TensorProto.DataType values used here. */
export const OnnxType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, UINT4: 21, INT4: 22 } as const;

/**
 * Protobuf bytes as a list of chunks: large payloads (weights) are appended by reference and
 * nested messages by their chunks, so a 500 MB model is copied once, in `finish`.
 */
class Writer {
  private readonly chunks: Uint8Array[] = [];
  private small: number[] = []; // varints and short fields, flushed into a chunk when needed
  private length = 0;

  private varint(v: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(v));
    while (n >= 0x80n) {
      this.small.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.small.push(Number(n));
  }

  private flush(): void {
    if (!this.small.length) return;
    this.chunks.push(Uint8Array.from(this.small));
    this.length += this.small.length;
    this.small = [];
  }

  get size(): number {
    return this.length + this.small.length;
  }

  int(field: number, v: number | bigint): this {
    this.varint((field << 3) | 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.varint((field << 3) | 5); // wire type 5: 32-bit
    this.small.push(...new Uint8Array(Float32Array.of(v).buffer));
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.varint((field << 3) | 2);
    this.varint(data.length);
    if (data.length < 64) {
      for (const b of data) this.small.push(b);
    } else {
      this.flush();
      this.chunks.push(data);
      this.length += data.length;
    }
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, w: Writer): this {
    w.flush();
    this.varint((field << 3) | 2);
    this.varint(w.length);
    this.flush();
    this.chunks.push(...w.chunks);
    this.length += w.length;
    return this;
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

export interface OnnxTensor {
  name: string;
  type: number;
  dims: number[];
  /** Raw little-endian bytes (float32, int8, packed int4 ...). */
  raw: Uint8Array;
}

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Attributes: an integer (INT), integers (INTS), a string (STRING), or `{ float: x }` (FLOAT). */
  attributes?: Record<string, number | number[] | string | { float: number }>;
  domain?: string;
}

export interface OnnxValue {
  name: string;
  type: number;
  /** Fixed sizes, or names of free dimensions ('batch', 'pos'); -1 means 'batch'. */
  dims: (number | string)[];
}

function tensorProto(t: OnnxTensor): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  return w.int(2, t.type).string(8, t.name).bytes(9, t.raw);
}

function valueInfo(v: OnnxValue): Writer {
  const shape = new Writer();
  for (const d of v.dims) {
    const free = typeof d === 'string' ? d : d < 0 ? 'batch' : null;
    shape.message(1, free !== null ? new Writer().string(2, free) : new Writer().int(1, d as number)); // dim_param for a free size
  }
  const tensorType = new Writer().int(1, v.type).message(2, shape);
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensorType));
}

function nodeProto(n: OnnxNode, index: number): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `${n.op}_${index}`).string(4, n.op);
  for (const [name, value] of Object.entries(n.attributes ?? {})) {
    const attr = new Writer().string(1, name);
    if (Array.isArray(value)) {
      for (const v of value) attr.int(8, v);
      attr.int(20, 7); // AttributeProto.INTS
    } else if (typeof value === 'string') {
      attr.string(4, value).int(20, 3); // AttributeProto.STRING
    } else if (typeof value === 'object') {
      attr.float(2, value.float).int(20, 1); // AttributeProto.FLOAT
    } else {
      attr.int(3, value).int(20, 2); // AttributeProto.INT
    }
    w.message(5, attr);
  }
  if (n.domain) w.string(7, n.domain);
  return w;
}

/** Serialise a single-graph ONNX model (ModelProto) with the given opset (and any extra domains, e.g. com.microsoft). */
export function buildOnnxModel(graph: { nodes: OnnxNode[]; initializers: OnnxTensor[]; inputs: OnnxValue[]; outputs: OnnxValue[]; name?: string }, opset = 21, domains: Record<string, number> = {}): Uint8Array {
  const payload = graph.initializers.reduce((n, t) => n + t.raw.length, 0);
  if (payload >= 2 ** 31 - 2 ** 24) {
    throw new Error(`This model's weights are ${(payload / 2 ** 30).toFixed(2)} GiB; one ONNX protobuf holds at most 2 GiB (larger models need ONNX external data, which this exporter does not write).`);
  }
  const g = new Writer();
  graph.nodes.forEach((n, i) => g.message(1, nodeProto(n, i)));
  g.string(2, graph.name ?? 'inference-lab');
  for (const t of graph.initializers) g.message(5, tensorProto(t));
  for (const v of graph.inputs) g.message(11, valueInfo(v));
  for (const v of graph.outputs) g.message(12, valueInfo(v));
  const ir = opset >= 21 ? 10 : 8;
  const model = new Writer()
    .int(1, ir)
    .string(2, 'inference-lab')
    .message(7, g)
    .message(8, new Writer().string(1, '').int(2, opset));
  for (const [domain, version] of Object.entries(domains)) model.message(8, new Writer().string(1, domain).int(2, version));
  return model.finish();
}

export function float32Raw(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

export function int64Raw(values: number[]): Uint8Array {
  return new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
}

/**
 * A graph under construction: `op(...)` appends a node and returns its output's name, so an
 * exporter reads like the forward pass it mirrors. Values can be given names (hook names).
 */
export class OnnxGraph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly inputs: OnnxValue[] = [];
  readonly outputs: OnnxValue[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  /** A float32 constant (a weight, or a scalar when `dims` is []). */
  floats(name: string, values: ArrayLike<number>, dims: number[]): string {
    this.initializers.push({ name, type: OnnxType.FLOAT, dims, raw: float32Raw(values) });
    return name;
  }

  /** A constant made by `make` the first time `name` is asked for, then reused. */
  constantOnce(name: string, make: () => string): string {
    return this.initializers.some((t) => t.name === name) ? name : make();
  }

  /** A float32 scalar constant, made once however often it is asked for. */
  scalar(name: string, v: number): string {
    const existing = this.initializers.find((t) => t.name === name);
    if (existing) {
      if (new Float32Array(existing.raw.slice().buffer)[0] !== Math.fround(v)) throw new Error(`ONNX constant "${name}" defined twice with different values.`);
      return name;
    }
    return this.floats(name, [v], []);
  }

  int64s(name: string, values: number[], dims: number[] = [values.length]): string {
    this.initializers.push({ name, type: OnnxType.INT64, dims, raw: int64Raw(values) });
    return name;
  }

  int8s(name: string, values: Int8Array, dims: number[]): string {
    this.initializers.push({ name, type: OnnxType.INT8, dims, raw: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
    return name;
  }

  /** Append `op`; returns the name of its (first) output: `output` if given, else a fresh one. */
  op(op: string, inputs: string[], attributes?: OnnxNode['attributes'], output?: string | string[], domain?: string): string {
    const outputs = Array.isArray(output) ? output : [output ?? `${op.toLowerCase()}_${this.counter++}`];
    this.nodes.push({ op, inputs, outputs, attributes, domain });
    return outputs[0];
  }

  input(name: string, type: number, dims: (number | string)[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }

  output(name: string, type: number, dims: (number | string)[]): void {
    this.outputs.push({ name, type, dims });
  }

  build(opset: number, domains: Record<string, number> = {}): Uint8Array {
    return buildOnnxModel({ name: this.name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs }, opset, domains);
  }
}
