// A minimal ONNX writer: enough protobuf to build small graphs (QuantizeLinear, DequantizeLinear,
// MatMul, Conv ...) and run them in ONNX Runtime. Field numbers follow onnx/onnx.proto.

/** ONNX TensorProto.DataType values used here. */
export const OnnxType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, UINT4: 21, INT4: 22 } as const;

class Writer {
  private readonly parts: number[] = [];

  private varint(v: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(v));
    while (n >= 0x80n) {
      this.parts.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.parts.push(Number(n));
  }

  int(field: number, v: number | bigint): this {
    this.varint((field << 3) | 0);
    this.varint(v);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.varint((field << 3) | 2);
    this.varint(data.length);
    for (const b of data) this.parts.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
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
  /** Integer (INT) or integer-list (INTS) attributes. */
  attributes?: Record<string, number | number[]>;
  domain?: string;
}

export interface OnnxValue {
  name: string;
  type: number;
  dims: number[];
}

function tensorProto(t: OnnxTensor): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  return w.int(2, t.type).string(8, t.name).bytes(9, t.raw);
}

function valueInfo(v: OnnxValue): Writer {
  const shape = new Writer();
  for (const d of v.dims) shape.message(1, d < 0 ? new Writer().string(2, 'batch') : new Writer().int(1, d)); // dim_param for a free batch size
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
    } else {
      attr.int(3, value).int(20, 2); // AttributeProto.INT
    }
    w.message(5, attr);
  }
  if (n.domain) w.string(7, n.domain);
  return w;
}

/** Serialise a single-graph ONNX model (ModelProto) with the given opset. */
export function buildOnnxModel(graph: { nodes: OnnxNode[]; initializers: OnnxTensor[]; inputs: OnnxValue[]; outputs: OnnxValue[]; name?: string }, opset = 21): Uint8Array {
  const g = new Writer();
  graph.nodes.forEach((n, i) => g.message(1, nodeProto(n, i)));
  g.string(2, graph.name ?? 'inference-lab');
  for (const t of graph.initializers) g.message(5, tensorProto(t));
  for (const v of graph.inputs) g.message(11, valueInfo(v));
  for (const v of graph.outputs) g.message(12, valueInfo(v));
  const ir = opset >= 21 ? 10 : 8;
  return new Writer()
    .int(1, ir)
    .string(2, 'inference-lab')
    .message(7, g)
    .message(8, new Writer().string(1, '').int(2, opset))
    .finish();
}

export function float32Raw(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

export function int64Raw(values: number[]): Uint8Array {
  return new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
}
