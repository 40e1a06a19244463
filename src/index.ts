// Inference Lab's one public entry. Notebooks, lessons, the CLI and the server import only this.

// Loading the library fills two registries that lower layers look things up in: the charts viz
// draws for models, traces, caches and reports, and the engines model.compile() can target.
import './viz/register';
import './fastpath/register';

// engine
export { tf } from './engine/tf';
export type { Tensor } from './engine/tf';
export { initBackend, backend, NATIVE_PACKAGES } from './engine/backend';
export type { BackendName, ModuleLoader } from './engine/backend';
export { setTensorMemoryLimit, tensorMemoryLimit, AllocationError, WASM_HEAP_MAX_BYTES } from './engine/tfjs-internals';
export { machine, machineInfo } from './engine/machine';
export type { MachineInfo } from './engine/machine';
export { readSafetensors, parseSafetensors, serializeSafetensors, WeightsError } from './io/safetensors';
export { conv2dViaMatmul } from './engine/ops';

// hooks
export { HookPoint } from './hooks/hook-point';
export type { HookFn } from './hooks/hook-point';
export { NonFiniteError, assertFiniteOutput, assertFiniteTrace, firstNonFiniteHook, firstNonFiniteStep, hasNonFinite, countNonFinite } from './hooks/non-finite';
export { HookedModel } from './hooks/hooked-model';
export type { CacheOptions, TraceOptions, HookSpec, NameFilter } from './hooks/hooked-model';
export { OPTIMIZATION_FORMAT } from './hooks/opt-state';
export type { OptimizationState } from './hooks/opt-state';
export { TRANSFORM_KINDS } from './hooks/transforms';
export type { Transform, TransformSpec, FakeQuantParams } from './hooks/transforms';
export { ActivationCache } from './hooks/activation-cache';
export { Trace } from './hooks/trace';
export type { TraceStep } from './hooks/trace';
export { tensorStats } from './hooks/stats';
export type { TensorStats } from './hooks/stats';

// models
export { DigitsCNN, DIGITS_CNN_DEFAULTS, checkPixels } from './models/cnn';
export type { DigitsCNNConfig } from './models/cnn';
export { topK, appendTopKStep } from './models/predictions';
export type { Prediction } from './models/predictions';
export { loadModel, listModels, modelNames, modelInfo, assetsDir, entryOf, entryFor, architectureOf, evaluateModel, heldOutData, heldOutFigure, readEvalData, textLoss, DATA_FORMATS } from './models/registry';
export type { ModelInfo, LoadedModel, ModelEntry, InputKind, EvalData, ModelEvaluation, HeldOutFigure } from './models/registry';
export { timeAlternating, timeAlternatingAsync, timeOne, timeOneAsync, summarizeTimes, formatTiming } from './engine/timing';
export type { Timing, TimingOptions } from './engine/timing';
export { evaluateDigits } from './models/evaluate';
export type { Evaluation } from './models/evaluate';

// data
export { loadMnist, digitBatch, MNIST_SIZE, DIGIT_LABELS, MNIST_SPLIT } from './data/mnist';
export type { DigitSet, MnistSplit } from './data/mnist';
export { readPng, pixelsFromJson } from './preprocess/image';
export { seededRandom, seededPermutation } from './data/random';

// viz
export type { MimeBundle, HasMimeBundle } from './engine/mime';
export * from './viz/views';
export { display, update, progressBar } from './engine/display';
export { diagram, diagramSvg, DIAGRAM_NAMES } from './viz/diagrams';
export type { DiagramName } from './viz/diagrams';
export { OKABE_ITO } from './viz/svg';
export { convolutionWindowView, convWindowData, convWindowSpec } from './viz/conv-views';
export type { ConvWindowOptions, ConvWindowData } from './viz/conv-views';

// optimize
export { quantize, quantizableWeights, collectActivations } from './optimize/quantize-model';
export type { QuantizeConfig, QuantizationInfo, Quantizable, Quantized, ActivationRange } from './optimize/quantize-model';
export {
  fakeQuantize, quantizeValues, dequantizeValues, packIntegers, unpackIntegers, packTensor, unpackTensor, packedBytes,
  weightParams, activationParams, paramsForRange, integerRange, roundHalfEven,
} from './optimize/quantize';
export type { Bits, QuantScheme, QuantParams, PackedTensor } from './optimize/quantize';
export { calibrateRange, quantizationMse, CALIBRATION_METHODS } from './optimize/calibrate';
export type { CalibrationMethod, CalibrationOptions, CalibratedRange } from './optimize/calibrate';
export { errorMetrics, layerErrors } from './optimize/analyze';
export type { ErrorMetrics, LayerError } from './optimize/analyze';
export { layerSensitivity, mixedPrecision } from './optimize/sensitivity';
export type { LayerSensitivity, MixedPrecisionResult } from './optimize/sensitivity';
export { weightQuantizationView, calibrationRangesView, layerErrorView, errorGrowthView, compareStepper } from './viz/quant-views';

// viz: the heatmap pictures behind the views (the web explainer sends them as PNG data URLs)
export { gridToPngUrl, toMosaic, gridRange } from './viz/heatmap';
export type { Colormap, Grid } from './viz/heatmap';
export { renderSvg, withDefaults } from './viz/render';

// the fast path (ONNX Runtime)
export { exportDigitsCnnToOnnx } from './fastpath/export-cnn';
export type { OnnxExport } from './fastpath/export-cnn';
export { buildOnnxModel, OnnxType } from './io/onnx-proto';
export { prune, pruneChannels } from './optimize/prune';
export type { PruneConfig, PruningInfo, Pruned } from './optimize/prune';
export { distillationLoss, trainCnn } from './optimize/distill';
export type { DistillOptions, TrainCnnOptions } from './optimize/distill';
export { compare, ComparisonReport, digitsTensor } from './optimize/compare';
export { compareRuntimes, RuntimeComparison, RUNTIME_MODELS } from './fastpath/runtimes';
export type { RuntimeRow, RuntimeModel, CompareRuntimesOptions } from './fastpath/runtimes';
export type { Variant, VariantReport } from './optimize/compare';
export { buildVariants, checkVariantSpec, VariantSpecError, SPEC_OPTION_NAMES } from './optimize/variants';
export type { VariantSpec, VariantOption, OptionNames, BuiltVariants } from './optimize/variants';

// recurrent networks (language ID) and training
export { CharRNN, CHAR_RNN_DEFAULTS, GATE_NAMES, runLSTM, runGRU } from './models/rnn';
export type { CharRNNConfig, CellType, RecurrentWeights, RecurrentSequence, LanguageGuess } from './models/rnn';
export { NgramNaiveBayes, NGRAM_DEFAULTS, charNgrams, accuracyReport } from './models/ngram';
export type { NgramConfig } from './models/ngram';
export { loadWordSplit, readWordSet, cleanWords, buildAlphabet, encodeWord, encodeBatch, WORD_LISTS, WORD_LIMITS } from './data/words';
export type { WordSet, WordSplit, WordListSource } from './data/words';
export { mse, mae, huber, crossEntropy, binaryCrossEntropy, hinge, klDivergence, lossCurve, linspace, numericGradient } from './train/losses';
export { BOWL, ROSENBROCK, SADDLE, SURFACES, SUGGESTED_RATES, optimizerPath, comparePaths } from './train/surfaces';
export type { Surface, OptimizerName, OptimizerSettings, OptimizerPath } from './train/surfaces';
export { fit, countCorrect } from './train/loop';
export type { FitOptions, FitResult, EpochRecord, StepResult, EvalResult } from './train/loop';
export { hiddenStateView, gateActivationsView, characterProbabilitiesView, accuracyComparisonView, prefixAccuracy, prefixAccuracyView } from './viz/rnn-views';
export { trainingCurves, lossCurvesView, lossComparisonView, surfacePathsView, pathLossView } from './viz/training-views';
export { PUBLISHED_SHAPES, parameterCount, scaleReport, humanCount, humanBytes } from './analysis/scale';
export type { TransformerShape, ScaleReport } from './analysis/scale';
export { matmulWeights, attentionFlopsPerToken, trainingCost, decodingBound, ACCELERATORS } from './analysis/compute-budget';
export type { GptCostShape, TrainingCost, Accelerator } from './analysis/compute-budget';
export { pairedBootstrap, formatInterval } from './analysis/intervals';
export { correctnessVector } from './models/evaluate';
// notebook 13: a regression model (rows of measurements -> one number), its data, training, errors and chart
export { TabularRegressor, checkRows, rowsFromJson } from './models/regression';
export type { TabularRegressorConfig } from './models/regression';
export { readDiabetes, splitDiabetes, isHeldOutPatient, columnStats } from './data/diabetes';
export type { TabularSet, DiabetesFile } from './data/diabetes';
export { diabetesFile } from './models/registry';
export { fitRegressor } from './train/regression';
export type { RegressionFitOptions } from './train/regression';
export { regressionErrors, compareRegression } from './analysis/regression';
export type { RegressionErrors } from './analysis/regression';
export { predictedVsActualView } from './viz/regression-views';
export type { PredictionSeries } from './viz/regression-views';
// notebook 13: faces (BlazeFace boxes, FaceRes age) from @vladmandic/human
export { FaceDetector, FaceAttributeModel, loadFaceDetector, loadFaceAttributes, faceCrop, blazefaceAnchors, humanModelFile, FACE_DETECTOR_DEFAULTS } from './models/faces';
export type { FaceDetectorConfig, FaceBox, FaceAttributes, BlazeFaceRaw } from './models/faces';
// notebook 13: CT preprocessing (Hounsfield units, windowing)
export { hounsfieldUnits, applyWindow, CT_WINDOWS } from './preprocess/ct';
export type { PairedBootstrapOptions, PairedInterval } from './analysis/intervals';
export { tfjsMatmulGflops, onnxMatmulGflops, copyBandwidthGBs } from './engine/measure';
export type { MatmulMeasurement } from './engine/measure';

// transformers: the GPT (tiny, trained here; GPT-2 from the user's own weights), tokenizers, corpus
export { GPT, GPT_PRESETS, KVCache, samplingDistribution, drawToken } from './models/gpt';
export type { GPTConfig, GPTPresetName, SamplingOptions, GenerateOptions, GeneratedToken, Generation } from './models/gpt';
export { CharTokenizer, Gpt2Tokenizer, tokenizerFor } from './data/tokenizers';
export type { Tokenizer, TokenizerSpec } from './data/tokenizers';
export { kjvChapters, splitChapters, readHeldOutText, readValidationText, characterCounts, unigramCrossEntropy } from './data/corpus';
export type { Chapter, CorpusSplit } from './data/corpus';
export { trainLanguageModel, evaluateLanguageModel, sampleWindows, learningRateAt, nextTokenLoss } from './train/language-model';
export type { LanguageModel, LanguageModelTraining, LanguageModelRecord } from './train/language-model';
export { matMulTrainable, isRecordingGradients } from './engine/ops';

// the fast path: a GPT in ONNX Runtime behind the same interface
export { OnnxGPT } from './fastpath/gpt-onnx';
export { OnnxCNN } from './fastpath/cnn-onnx';
export { OnnxHookedModel } from './fastpath/onnx-model';
export type { CompileOptions } from './fastpath/onnx-model';
export { exportGptToOnnx } from './fastpath/export-gpt';
export type { GptOnnxOptions, GptOnnxExport } from './fastpath/export-gpt';
export { OrtSession } from './engine/ort-session';
export type { OrtValue, OrtSessionOptions } from './engine/ort-session';
export { generateWith, checkTokenIds } from './models/gpt';
export type { Stepper } from './models/gpt';

// your own model: any TensorFlow.js LayersModel / GraphModel from disk, instrumented; a real pretrained detector
export { ImportedModel, loadImportedModel, loadImportedSource } from './models/imported';
export type { ImportedModelOptions, ImportedPreprocess, ImportedSource } from './models/imported';
export { fileIOHandler, detectFormat, modelJsonPath } from './io/tfjs-files';
export { readNpy, type NpyArray } from './io/npy';
export type { TfjsFormat } from './io/tfjs-files';
export { ObjectDetector, loadObjectDetector, centernetModelFile, COCO_LABELS, DETECTOR_DEFAULTS } from './models/centernet';
export type { Detection, DetectorConfig } from './models/centernet';
export { detectionsView, photoToPngUrl, importedErrorView } from './viz/imported-views';
export type { LabelledBox } from './viz/imported-views';

// GPT-2 from Hugging Face files (the user's own: config.json + model.safetensors, read offline)
export { loadGPT2, isHuggingFaceGPT2, readHFGPT2Config, gpt2ConfigFromHF } from './models/gpt2-loader';
export type { HFGPT2Config, LoadGPT2Options } from './models/gpt2-loader';
export { SafetensorsReader } from './io/safetensors';
export type { TensorLocation, TensorEntry } from './io/safetensors';

// speech: keyword spotting (espeak-ng clips, log-mel preprocessing as hook points, a small CNN)
export { KeywordCNN, KWS_CNN_DEFAULTS, keywordWaveform, evaluateKeywords, loadKeywordHeldOut } from './models/speech';
export type { KeywordCNNConfig, KeywordEvaluation, KeywordSnrResult } from './models/speech';
export {
  LOG_MEL_DEFAULTS, logMelSpectrogram, melFilterbank, hzToMel, melToHz, hannWindow, dftBasis, frameCount, frequencyBins,
  preEmphasize, windowedFrames, powerSpectrum, melEnergies,
} from './preprocess/log-mel';
export type { LogMelConfig } from './preprocess/log-mel';
export {
  KEYWORDS, KWS_SAMPLE_RATE, KWS_CLIP_SAMPLES, KWS_TEST_SNRS, NOISE_TYPES, readClipSet, makeNoise, mixAtSnr,
  noisyWindows, placeInWindow, speakerFamily, meanPower,
} from './data/speech';
export type { KeywordClipSet, ClipInfo, NoiseType } from './data/speech';
export { waveformView, spectrogramView, melView, speechPreprocessingView, confusionMatrixView, snrAccuracyView } from './viz/speech-views';

// transformer views: tokens, attention (one head, every head), logit lens, next-token bars, the
// forward pass at one position; and the analyses behind them
export { attentionPatterns, attentionFromCache, logitLens, headPatternScores, headScoresOver, patternTargets, HEAD_PATTERNS } from './analysis/gpt-analysis';
export type { AttentionPatterns, LogitLens, LensPrediction, HeadScores, HeadPattern } from './analysis/gpt-analysis';
export { inductionTest, inductionStripeScores, uniformStripeScore, repeatedRandomTokens } from './analysis/induction';
export type { InductionTest, InductionTestOptions, InductionHead } from './analysis/induction';
export { inductionView } from './viz/induction-views';
export { tokenizationView, attentionHeadView, attentionModelView, logitLensView, gptStepper, gptModelCard, transformerCacheView, visibleToken } from './viz/gpt-views';
export type { HeadViewOptions, GptStepperOptions } from './viz/gpt-views';
export { nextTokenView } from './viz/sampling-views';
export type { NextTokenOptions } from './viz/sampling-views';

// optimizing a GPT: pruning heads and neurons, distilling a student, the held-out loss, views
export { headImportance, leastImportantHeads, pruneHeads, pruneNeurons, pruningMasks, fineTunePruned, pruningSweep, GPT_BLOCK_MATRIX } from './optimize/prune';
export type { Prunable, HeadScore, HeadImportance, NeuronPruneOptions, GptPruneMethod, SweepPoint } from './optimize/prune';
export { languageDistillationLoss, trainGptStudent } from './optimize/distill';
export type { TrainGptStudentOptions } from './optimize/distill';
export { asLanguageModel, heldOutLoss } from './optimize/lm-eval';
export type { ForwardLanguageModel } from './optimize/lm-eval';
export { latencyPercentiles } from './optimize/compare';
export type { GptCompareData, DigitsCompareData, GptVariantModel } from './optimize/compare';
export { nextTokenTemperatureView, headImportanceView, pruningMaskView } from './viz/gpt-optimize-views';

// exercises: each notebook's checked exercises (src/exercises/NN-*.ts), by id ('00.2')
export { exercise, check, exercises } from './exercises/index';
export { Exercise, Verdict, matches } from './exercises/exercise';
export type { ExerciseSpec, Answer, Tolerance, Mistake, VerdictStatus } from './exercises/exercise';

// translation (notebook 12): Spanish -> English verses with Strong's gold alignments, an
// encoder-decoder transformer with cross-attention hook points, BLEU, alignment error rate
export { tokenizeWords, isWordToken, parseOsisVerse, parseDiathekeDump, strongsLinks, readTranslationHeldOut, Vocabulary, SPECIAL_TOKENS } from './data/translation';
export type { TaggedVerse, ParallelVerse, TranslationHeldOut } from './data/translation';
export { Translator, crossAttentionHook, detokenize } from './models/translator';
export type { TranslatorConfig, TranslateOptions, Translation, TranslationStep } from './models/translator';
export { bleuStats, bleuFromStats, corpusBleu } from './models/bleu';
export type { BleuStats, BleuScore } from './models/bleu';
export { alignmentScore, corpusAlignmentScore, goldTargets, argmaxLinks, diagonalLinks, IbmModel1 } from './analysis/translation';
export type { Link, AlignmentScore } from './analysis/translation';
export { measureTranslation, BEAM_WIDTH } from './analysis/translation-report';
export type { AlignmentRow, TranslationMeasurements } from './analysis/translation-report';
export { crossAttentionView } from './viz/translation-views';
export type { CrossAttentionViewOptions } from './viz/translation-views';
