import type { Ctx } from '../../ctx';
import { registerSampleCommand } from './sampleCommand';

/**
 * ONNX in the editor: "GRPO: Sample Completions". (ONNX reward models are scored by the previews,
 * through onnx/core/rewardModel.) onnxruntime-node is loaded on first use, never at activation.
 */
export function activateOnnx(ctx: Ctx): void {
  registerSampleCommand(ctx);
}
