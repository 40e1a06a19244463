// The fast path offers itself to model.compile('onnx') (hooks/compile.ts): loaded by src/index.ts.
import { registerCompiler } from '../hooks/compile';
import type { DigitsCNN } from '../models/cnn';
import type { GPT } from '../models/gpt';
import { OnnxCNN } from './cnn-onnx';
import { OnnxGPT } from './gpt-onnx';

registerCompiler('onnx', 'digits-cnn', (model, options) => new OnnxCNN(model as DigitsCNN, options));
registerCompiler('onnx', 'gpt', (model, options) => new OnnxGPT(model as GPT, options));
