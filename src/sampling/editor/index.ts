import type { Ctx } from '../../ctx';
import { registerExportCommand } from './exportCommand';
import { registerSampleCommand } from './sampleCommand';

/**
 * ONNX in the editor: "GRPO: Sample Completions" and "GRPO: Export Model for In-Editor Sampling". (ONNX reward models are scored by the previews,
 * through scoring/rewardModel.) onnxruntime-node is loaded on first use, never at activation.
 */
export function activateSampling(ctx: Ctx): void {
  registerSampleCommand(ctx);
  registerExportCommand(ctx);
}
