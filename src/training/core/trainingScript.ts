/**
 * A user's own training script (the origin's shape: `GRPOTrainer(...)` and `trainer.train()` in a
 * .py file), as GRPO: Train sees it: where its trainer is built and where it trains.
 */

export interface TrainingScriptLines {
  /** 0-based line of the first `GRPOTrainer(` call (a subclass's too: `UnslothGRPOTrainer(`). */
  trainer: number;
  /** 0-based line of the first `.train(` call after it, if any. */
  train?: number;
}

const TRAINER_CALL = /\b\w*GRPOTrainer\s*\(/;
const TRAIN_CALL = /\.train\s*\(/;

/** The script's trainer and train() lines; undefined for a file that builds no GRPOTrainer. */
export function trainingScriptLines(text: string): TrainingScriptLines | undefined {
  const lines = text.split(/\r?\n/);
  const isCode = (line: string) => !/^\s*(#|$)/.test(line);
  const trainer = lines.findIndex(
    (line) => isCode(line) && TRAINER_CALL.test(line.replace(/#.*/, '')) && !/^\s*(class|def|import|from)\b/.test(line),
  );
  if (trainer < 0) return undefined;
  const after = lines.slice(trainer).findIndex((line) => isCode(line) && TRAIN_CALL.test(line.replace(/#.*/, '')));
  return { trainer, train: after < 0 ? undefined : trainer + after };
}
