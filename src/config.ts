import * as vscode from 'vscode';
import type { DatasetFormat } from './shared/vocabulary';
import type { ScriptLauncher } from './training/core/runs';

/** Typed access to the `grpoStudio.*` settings. */
export class Config {
  private get section() {
    return vscode.workspace.getConfiguration('grpoStudio');
  }

  /** Arguments GRPO: Train gives a training script, by its path relative to the workspace folder. */
  scriptArgs(relativePath: string): string[] {
    const all = this.section.get<Record<string, unknown>>('train.scriptArgs') ?? {};
    const args = all[relativePath.split('\\').join('/')];
    return Array.isArray(args) ? args.map(String) : [];
  }

  /** How GRPO: Train launches a training script (`accelerate launch` options), by the same key as scriptArgs. */
  scriptLauncher(relativePath: string): ScriptLauncher {
    const all = this.section.get<Record<string, unknown>>('train.scriptLauncher') ?? {};
    const entry = all[relativePath.split('\\').join('/')] as Record<string, unknown> | undefined;
    const numProcesses = entry?.numProcesses;
    const accelerateConfig = entry?.accelerateConfig;
    return {
      numProcesses: typeof numProcesses === 'number' && Number.isInteger(numProcesses) && numProcesses > 0 ? numProcesses : undefined,
      accelerateConfig: typeof accelerateConfig === 'string' && accelerateConfig ? accelerateConfig : undefined,
    };
  }

  get trlVersion(): string | undefined {
    return this.section.get<string | null>('trlVersion') || undefined;
  }

  get datasetColumns(): string[] | undefined {
    return this.section.get<string[] | null>('dataset.columns') ?? undefined;
  }

  get datasetFormat(): DatasetFormat | 'auto' {
    return this.section.get<DatasetFormat | 'auto'>('dataset.format', 'auto');
  }

  get discoverByShape(): boolean {
    return this.section.get<boolean>('discovery.byShape', true);
  }

  get discoveryExclude(): string[] {
    return this.section.get<string[]>('discovery.exclude', []);
  }

  get maxFileBytes(): number {
    return this.section.get<number>('discovery.maxFileSizeKb', 1024) * 1024;
  }

  get debounceMs(): number {
    return this.section.get<number>('diagnostics.debounceMs', 200);
  }

  get pythonPath(): string | undefined {
    return this.section.get<string>('pythonPath') || undefined;
  }

  get previewInline(): boolean {
    return this.section.get<boolean>('preview.inline', true);
  }

  /** Where samples files show "Score this completion": every sample line, the first of each group, or nowhere. */
  get previewSampleLenses(): 'every' | 'group' | 'off' {
    const value = this.section.get<string>('preview.sampleLenses', 'every');
    return value === 'group' || value === 'off' ? value : 'every';
  }

  get previewSamples(): string {
    return this.section.get<string>('preview.samples', '**/*.samples.jsonl');
  }

  get previewTimeoutMs(): number {
    return this.section.get<number>('preview.timeoutSeconds', 10) * 1000;
  }

  get previewTokenizer(): string | undefined {
    return this.section.get<string>('preview.tokenizer') || undefined;
  }

  /** ONNX reward model folders scored in every preview (relative ones from the workspace folder). */
  get previewRewardModels(): string[] {
    return this.section.get<string[]>('preview.rewardModels', []);
  }

  /** Where GRPO: Dry Run samples: `auto` uses an ONNX export of the config's model when there is one, `trl` always TRL in Python. */
  get dryRunSampler(): 'auto' | 'trl' {
    return this.section.get<string>('dryRun.sampler', 'auto') === 'trl' ? 'trl' : 'auto';
  }

  get samplingModel(): string | undefined {
    return this.section.get<string>('sampling.model') || undefined;
  }

  /** `grpoStudio.sampling.*`, with GRPOConfig's defaults where it has one. */
  get sampling(): {
    numGenerations: number;
    maxNewTokens: number;
    temperature: number;
    topP: number;
    topK: number;
    seed: number;
    maxPrompts: number;
  } {
    const s = this.section;
    return {
      numGenerations: s.get<number>('sampling.numGenerations', 8),
      maxNewTokens: s.get<number>('sampling.maxNewTokens', 128),
      temperature: s.get<number>('sampling.temperature', 1),
      topP: s.get<number>('sampling.topP', 1),
      topK: s.get<number>('sampling.topK', 0),
      seed: s.get<number>('sampling.seed', 42),
      maxPrompts: s.get<number>('sampling.maxPrompts', 8),
    };
  }

  /** Globs of `files.exclude` that are switched on. */
  get filesExclude(): string[] {
    const globs = vscode.workspace.getConfiguration('files').get<Record<string, boolean>>('exclude', {});
    return Object.entries(globs)
      .filter(([, on]) => on === true)
      .map(([glob]) => glob);
  }

  affectsPreview(event: vscode.ConfigurationChangeEvent): boolean {
    return ['grpoStudio.pythonPath', 'grpoStudio.preview'].some((s) => event.affectsConfiguration(s));
  }

  affectsDiscovery(event: vscode.ConfigurationChangeEvent): boolean {
    return ['grpoStudio.dataset', 'grpoStudio.discovery', 'grpoStudio.trlVersion', 'grpoStudio.pythonPath', 'files.exclude'].some((s) =>
      event.affectsConfiguration(s),
    );
  }
}
