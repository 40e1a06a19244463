// The table of contents of the web explainer, copied from the project's curriculum (the lessons
// in order). A lesson is linked when lessons/<slug>.md exists; the others are listed as coming.

export interface CurriculumEntry {
  slug: string;
  title: string;
  concepts: string;
}

export const CURRICULUM: CurriculumEntry[] = [
  { slug: '01-the-inference-process', title: 'The inference process', concepts: 'preprocessing, forward pass, post-processing (class labels, numerical predictions)' },
  { slug: '02-convolutional-networks', title: 'Convolutional networks', concepts: 'filters, feature maps, pooling, receptive field' },
  { slug: '03-recurrent-networks', title: 'Recurrent networks', concepts: 'sequences, temporal dependencies, LSTM/GRU state' },
  { slug: '04-transformers-and-attention', title: 'Transformers and attention', concepts: 'long-range dependencies, attention, tokens, sampling' },
  { slug: '05-what-makes-a-model-large', title: 'What makes a model large', concepts: 'billions of parameters, compute and memory, latency; GPUs/TPUs' },
  { slug: '06-training-loss-and-gradient-descent', title: 'Training, loss and gradient descent', concepts: 'loss functions, gradient descent, iterative optimization' },
  { slug: '07-quantization', title: 'Quantization', concepts: 'reduced precision of weights and activations, memory, speed' },
  { slug: '08-pruning', title: 'Pruning', concepts: 'removing unnecessary weights, size and compute' },
  { slug: '09-knowledge-distillation', title: 'Knowledge distillation', concepts: 'student mimics teacher, faster inference' },
  { slug: '10-optimized-vs-original', title: 'Optimized vs original', concepts: 'comparing optimized and original models end to end' },
  { slug: '11-applications', title: 'Applications', concepts: 'language understanding, computer vision, speech recognition' },
  { slug: '12-translation', title: 'Translation', concepts: 'sequence to sequence, cross-attention as alignment, search as post-processing' },
  { slug: '13-vision-in-practice', title: 'Vision in practice', concepts: 'numerical predictions (regression), facial recognition (face boxes, age), medical images (Hounsfield units, windowing)' },
];
