/** The kernel's identity, shared by the kernel and the installer (no heavy imports here). */
export const KERNEL_NAME = 'inference-lab';
export const DISPLAY_NAME = 'TypeScript (Inference Lab)';
