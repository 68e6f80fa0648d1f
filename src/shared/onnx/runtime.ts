import type * as Ort from 'onnxruntime-node';
import { ModelFolderError } from './modelFolder';

export type OnnxRuntime = typeof Ort;
export type OnnxSession = Ort.InferenceSession;

let runtime: OnnxRuntime | undefined;

/**
 * onnxruntime-node, loaded on first use: its native library is large, and most sessions of the
 * editor never sample or score with a neural model.
 */
export function onnxRuntime(): OnnxRuntime {
  if (!runtime) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      runtime = require('onnxruntime-node') as OnnxRuntime;
    } catch (error) {
      throw new Error(
        `onnxruntime-node cannot be loaded on ${process.platform}-${process.arch} (${(error as Error).message}). ` +
          'Install the GRPO Studio package built for this platform.',
        { cause: error },
      );
    }
  }
  return runtime;
}

/** Opens an ONNX graph on the CPU; a corrupt file becomes an error that names it. */
export async function openSession(file: string, threads?: number): Promise<OnnxSession> {
  const ort = onnxRuntime();
  try {
    return await ort.InferenceSession.create(file, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      ...(threads ? { intraOpNumThreads: threads } : {}),
    });
  } catch (error) {
    throw new ModelFolderError(
      `${file} cannot be loaded by onnxruntime (${(error as Error).message.split('\n')[0]}): the file is corrupt or incomplete; export the model again`,
      file,
    );
  }
}
