import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import type { DiscoveryService } from '../../discovery/editor/discoveryService';
import type { RewardFunction } from '../../discovery/core/types';
import { isOnnxModelFolder } from '../../shared/onnx/modelFolder';
import { RewardModelThread } from '../../scoring/rewardModelThread';
import type { DryRunReport, WeightedPreviewOptions } from '../core/rewardPreviewProtocol';
import { configSettings, previewSources, sameSource, sourceOrder, type PreviewSource, type SourceSettings } from '../core/previewSource';
import { scoreSamples, type Preview, type PreviewReward } from '../../scoring/engine';
import { RewardWorker, WorkerFault } from '../../scoring/rewardWorker';
import { parseSampleSet, type SampleSet } from '../../scoring/samples';
import { findInterpreter, type Interpreter } from '../../interpreter';
import { SEARCH_EXCLUDE } from '../../discovery/core/sourceFiles';
import { loadPythonParser } from '../../discovery/core/parser';
import { decodeUtf8 } from '../../shared/encoding';

export interface SampleSetPreview {
  file: string;
  set: SampleSet;
  /** The source's rewards first, in its order (the ones the totals use), then the other previewable ones. */
  rewards: RewardFunction[];
  /** How many of `rewards`, from the first, the totals and advantages use. */
  totalled: number;
  preview?: Preview;
  /** Why there are no numbers (worker fault, no trust, nothing to score). */
  failure?: string;
}

/**
 * Runs the workspace's reward functions on its sample sets in a persistent Python worker, after
 * every save, and keeps the latest numbers for the inline summaries, hovers, lenses and panel.
 * In an untrusted workspace it runs nothing.
 */
export class PreviewService implements vscode.Disposable {
  private worker?: RewardWorker;
  private interpreter?: Interpreter;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private readonly sampleDiagnostics = vscode.languages.createDiagnosticCollection('grpo-studio-samples');
  private running?: Promise<void>;
  private rerun = false;
  private rewardsKey = '';
  /** ONNX reward models, loaded once each and run off the extension host's thread. */
  private readonly rewardModels: RewardModelThread;
  readonly previews = new Map<string, SampleSetPreview>();
  options: WeightedPreviewOptions = { scaleRewards: 'group', aggregation: 'sum_then_normalize' };
  /** The sample set the user looked at last; the inline numbers come from it. */
  activeSamples?: string;
  /** Signal reports of the sample sets that dry runs saved, by file. */
  readonly dryRuns = new Map<string, DryRunReport>();
  /** The source the user chose; else the first config, else the first trainer file, else the workspace. */
  private chosenSource?: PreviewSource;
  /** The source's own settings the panel's options were last reset to. */
  private settingsKey = '';

  constructor(
    private readonly ctx: Ctx,
    readonly discovery: DiscoveryService,
  ) {
    this.rewardModels = new RewardModelThread(ctx.distPath);
    this.disposables.push(
      this.rewardModels,
      this.sampleDiagnostics,
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (doc.languageId === 'python' || this.isSamplesFile(doc.uri.fsPath)) this.refresh();
      }),
      vscode.workspace.onDidSaveNotebookDocument(() => this.refresh()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.refresh()),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        const file = editor?.document.uri.fsPath;
        if (file && this.isSamplesFile(file) && file !== this.activeSamples) {
          this.activeSamples = file;
          this.refresh();
        }
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (ctx.config.affectsPreview(event)) {
          this.worker?.dispose();
          this.worker = undefined;
          this.rewardModels.releaseAll();
          this.refresh();
        }
      }),
    );
  }

  get trusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  get interpreterDescription(): string | undefined {
    return this.interpreter && `${this.interpreter.path} (${this.interpreter.source})`;
  }

  isSamplesFile(file: string): boolean {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file));
    if (!folder) return false;
    const rel = path.relative(folder.uri.fsPath, file).split(path.sep).join('/');
    return picomatch(this.ctx.config.previewSamples, { dot: true })(rel);
  }

  /** The preview whose numbers the editor shows. */
  current(): SampleSetPreview | undefined {
    return (this.activeSamples && this.previews.get(this.activeSamples)) || this.previews.values().next().value;
  }

  /**
   * The discovered rewards changed (an edit of a reward or of the source's `reward_funcs`): rescore
   * once the previewable ones, the source's order or its settings differ. New source settings (the
   * config's `reward_weights` edited) replace the panel's options.
   */
  notifyRewardsChanged(): void {
    const source = this.source();
    const ordered = this.sourceRewards(source);
    const key = [
      ...this.discovery.report.rewards.filter(isPreviewableReward).map((r) => `${r.file}:${r.handle?.attr ?? r.modelDir}`),
      JSON.stringify(source),
      ...ordered.map((r) => r.name),
    ].join('|');
    const settingsChanged = this.resetToSourceSettings(source, ordered);
    if (key !== this.rewardsKey || settingsChanged) {
      this.rewardsKey = key;
      void this.refresh();
    }
  }

  /** Every source to pick from: configs and trainer files that wire rewards, then the workspace. */
  sources(): PreviewSource[] {
    return previewSources(this.discovery.report.rewards);
  }

  source(): PreviewSource {
    const sources = this.sources();
    return sources.find((s) => sameSource(s, this.chosenSource)) ?? sources[0];
  }

  chooseSource(source: PreviewSource): void {
    this.chosenSource = source;
    this.settingsKey = '';
    this.notifyRewardsChanged();
  }

  /** Every reward the source wires (previewable or not), in its order. */
  sourceRewards(source = this.source()): RewardFunction[] {
    const all = this.discovery.report.rewards;
    return sourceOrder(all, source).map((k) => all[k]);
  }

  /** What the source says about scoring (a config: reward_weights, scale_rewards, multi_objective_aggregation). */
  sourceSettings(source = this.source(), ordered = this.sourceRewards(source)): SourceSettings {
    if (source.kind !== 'config') return {};
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === source.file);
    let text = open?.getText();
    if (text === undefined) {
      try {
        text = decodeUtf8(fs.readFileSync(source.file), source.file);
      } catch {
        return {};
      }
    }
    return configSettings(text, ordered.length);
  }

  /** When the source or its settings changed, the panel's options become the source's. Returns whether they did. */
  private resetToSourceSettings(source: PreviewSource, ordered: RewardFunction[]): boolean {
    const settings = this.sourceSettings(source, ordered);
    const key = JSON.stringify([source, settings, ordered.length]);
    if (key === this.settingsKey) return false;
    this.settingsKey = key;
    this.options = {
      scaleRewards: settings.scaleRewards ?? 'group',
      aggregation: settings.aggregation ?? 'sum_then_normalize',
      ...(settings.weights ? { weights: previewableWeights(ordered, settings.weights) } : {}),
    };
    return true;
  }

  /** A dry run saved `file`: it becomes the sample set on display, with its report above it. */
  showDryRun(file: string, report: DryRunReport): Promise<void> {
    this.dryRuns.set(file, report);
    this.activeSamples = file;
    return this.refresh();
  }

  /** A dry run that was cancelled or failed removed `file`: the panel stops showing it and its report. */
  forgetDryRun(file: string): Promise<void> {
    this.dryRuns.delete(file);
    if (this.activeSamples === file) this.activeSamples = undefined;
    return this.refresh();
  }

  setOptions(options: WeightedPreviewOptions): void {
    this.options = options;
    this.refresh();
  }

  /** Re-scores every sample set; calls during a run coalesce into one more run. */
  refresh(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.rerun = false;
        await this.runAll();
      } while (this.rerun);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runAll(): Promise<void> {
    await this.discovery.whenReady();
    // The first scoring too uses the source's own weights (a config's reward_weights).
    this.resetToSourceSettings(this.source(), this.sourceRewards());
    const files = (await vscode.workspace.findFiles(this.ctx.config.previewSamples, SEARCH_EXCLUDE, 50)).map((uri) => uri.fsPath).sort();
    for (const file of [...this.previews.keys()]) if (!files.includes(file)) this.previews.delete(file);
    for (const file of files) {
      let set: SampleSet;
      try {
        set = parseSampleSet(decodeUtf8(await vscode.workspace.fs.readFile(vscode.Uri.file(file)), file));
      } catch (error) {
        set = { samples: [], groups: [], problems: [{ line: 1, message: (error as Error).message }] };
      }
      this.publishSampleProblems(file, set);
      const { rewards, totalled } = this.rewardsFor(file);
      const entry: SampleSetPreview = { file, set, rewards, totalled };
      if (!this.trusted) {
        entry.failure = vscode.l10n.t('previews are off in Restricted Mode (they run your code); trust the folder to see scores');
      } else if (rewards.length === 0) {
        entry.failure = vscode.l10n.t('No reward function with a module-level name to preview.');
      } else if (set.samples.length > 0) {
        await this.score(entry);
      }
      this.previews.set(file, entry);
    }
    this.changed.fire();
  }

  private async score(entry: SampleSetPreview): Promise<void> {
    try {
      entry.preview = await this.preview(entry.file, entry.rewards, entry.totalled, entry.set);
    } catch (error) {
      entry.failure =
        error instanceof WorkerFault
          ? vscode.l10n.t('The reward worker failed ({0}): {1}', error.kind, error.message)
          : String((error as Error).message ?? error);
      this.ctx.output.warn(`Preview of ${entry.file}: ${entry.failure}`);
    }
  }

  /** Reward functions in the Python worker (started only when there are some), ONNX reward models here. */
  private async preview(file: string, rewards: RewardFunction[], totalled: number, set: SampleSet): Promise<Preview> {
    const needsPython = rewards.some((r) => r.handle);
    const worker = needsPython ? await this.ensureWorker(vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))) : undefined;
    const inTotal = rewards.slice(0, totalled).map((_, k) => k);
    // The source's weights cover its own rewards; a model the setting adds weighs 1 until the panel says otherwise.
    const given = this.options.weights ?? [];
    const weights =
      given.length > 0 && given.length <= inTotal.length ? [...given, ...Array(inTotal.length - given.length).fill(1)] : undefined;
    return scoreSamples(worker, {
      parser: await loadPythonParser(this.ctx.distPath),
      rewards: rewards.map((r) => this.toPreviewReward(r)),
      set,
      paths: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
      options: { ...this.options, weights },
      tokenizer: this.ctx.config.previewTokenizer,
      inTotal,
    });
  }

  /** Scores one completion (with a prompt and columns) with every reward of the current set. */
  async scoreOne(sample: SampleSet['samples'][number]): Promise<Preview | undefined> {
    const current = this.current();
    if (!current || !this.trusted || current.rewards.length === 0) return undefined;
    const set: SampleSet = { samples: [{ ...sample, group: 0 }], groups: [{ index: 0, start: 0, size: 1 }], problems: [] };
    return this.preview(current.file, current.rewards, current.totalled, set);
  }

  /** The previewable rewards defined in `file`. */
  rewardsIn(file: string): RewardFunction[] {
    return this.discovery.report.rewards.filter((r) => r.handle && r.file === file);
  }

  /**
   * Rewards with a module-level name and ONNX reward models named in a config, from the sample
   * file's workspace folder, and the reward models of grpoStudio.preview.rewardModels. Totalled, in
   * this order: the source's, then the setting's models (asked for by name); then the rest.
   */
  private rewardsFor(samplesFile: string): { rewards: RewardFunction[]; totalled: number } {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(samplesFile))?.uri.fsPath;
    const inFolder = this.discovery.report.rewards.filter(
      (r) => isPreviewableReward(r) && (!folder || r.file.startsWith(folder + path.sep)),
    );
    const fromSource = this.sourceRewards().filter((r) => inFolder.includes(r));
    const known = new Set(inFolder.map((r) => r.modelDir));
    const configured = this.ctx.config.previewRewardModels
      .map((dir) => path.resolve(folder ?? '', dir))
      .filter((dir) => !known.has(dir))
      .map((dir): RewardFunction => ({
        name: path.basename(dir),
        kind: 'model',
        isAsync: false,
        origin: 'config',
        file: dir,
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        references: [],
        problems: [],
        modelDir: dir,
      }));
    const rest = inFolder.filter((r) => !fromSource.includes(r));
    const rewards = [...fromSource, ...configured, ...rest];
    // Nothing wired in this folder and no model asked for: every reward counts.
    const totalled = fromSource.length + configured.length;
    return { rewards, totalled: totalled > 0 ? totalled : rewards.length };
  }

  private toPreviewReward(reward: RewardFunction): PreviewReward {
    if (!reward.handle) return { ...this.rewardModels.reward(reward.modelDir!), name: reward.name };
    return { name: reward.name, file: reward.handle.file, attr: reward.handle.attr, instantiate: reward.handle.instantiate };
  }

  private async ensureWorker(folder: vscode.WorkspaceFolder | undefined): Promise<RewardWorker> {
    if (this.worker) return this.worker;
    this.interpreter = await findInterpreter(this.ctx.config, folder);
    this.ctx.output.info(`Reward previews run with ${this.interpreterDescription}.`);
    this.worker = new RewardWorker({
      python: this.interpreter.path,
      workerScript: this.ctx.pythonScript('worker'),
      cwd: folder?.uri.fsPath ?? this.ctx.extension.extensionUri.fsPath,
      timeoutMs: this.ctx.config.previewTimeoutMs,
      onOutput: (text) => this.ctx.output.append(text),
    });
    return this.worker;
  }

  private publishSampleProblems(file: string, set: SampleSet): void {
    this.sampleDiagnostics.set(
      vscode.Uri.file(file),
      set.problems.map((p) => {
        const diagnostic = new vscode.Diagnostic(
          new vscode.Range(p.line - 1, 0, p.line - 1, 1000),
          p.message,
          vscode.DiagnosticSeverity.Error,
        );
        diagnostic.source = 'GRPO Studio';
        return diagnostic;
      }),
    );
  }

  dispose(): void {
    this.worker?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** The source's weights (one per reward it wires) for the previewable ones among them, in order. */
export function previewableWeights(ordered: readonly RewardFunction[], weights: readonly number[]): number[] {
  return ordered.flatMap((r, k) => (isPreviewableReward(r) ? [weights[k]] : []));
}

/** What a preview can score: a function the worker imports, or an ONNX reward model folder. */
export function isPreviewableReward(reward: RewardFunction): boolean {
  return Boolean(reward.handle) || (reward.kind === 'model' && reward.modelDir !== undefined && isOnnxModelFolder(reward.modelDir));
}
