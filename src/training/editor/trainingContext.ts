import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import type { DiscoveryService } from '../../discovery/editor/discoveryService';
import type { Previews } from '../../previews/editor';
import type { TrlSchema } from '../core/configCheck';
import type { RunState } from '../core/runs';
import type { DashboardPanel } from './dashboardPanel';
import type { TrainingService } from './trainingService';

/** What the training commands share: handed to each command factory (rust-analyzer's Ctx style). */
export interface TrainingContext {
  ctx: Ctx;
  service: TrainingService;
  dashboard: DashboardPanel;
  discovery: DiscoveryService;
  /** The installed TRL's run-config fields (schemas/trl-grpo.json). */
  schema: TrlSchema;
  /** Where a dry run's completions and signal report are shown. */
  previews: Previews;
}

/** The run a command acts on: the one it was invoked on, the only candidate, or the user's pick. */
export async function pickRun(
  service: TrainingService,
  run?: RunState,
  filter: (r: RunState) => boolean = () => true,
): Promise<RunState | undefined> {
  if (run) return run;
  const candidates = service.runs.filter(filter);
  if (candidates.length <= 1) return candidates[0];
  const picked = await vscode.window.showQuickPick(candidates.map((r) => ({ label: r.name, description: r.status, run: r })));
  return picked?.run;
}
