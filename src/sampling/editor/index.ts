import type { Ctx } from '../../ctx';
import { registerSampleCommand } from './sampleCommand';

/**
 * ONNX in the editor: "GRPO: Sample Completions". (ONNX reward models are scored by the previews,
 * through scoring/rewardModel.) onnxruntime-node is loaded on first use, never at activation.
 */
export function activateSampling(ctx: Ctx): void {
  registerSampleCommand(ctx);
}
