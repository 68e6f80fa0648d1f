import type { Ctx } from '../../ctx';
import type { DiscoveryService } from '../../discovery/editor/discoveryService';
import type { Previews } from '../../previews/editor';
import { RUNNER_FIELDS } from '../../shared/runConfig';
import { registerCompareGenerations } from './compareGenerations';
import { DashboardPanel } from './dashboardPanel';
import { RunFailureNotifier } from './failureNotifier';
import { registerRunCommands } from './runCommands';
import { loadTrlSchema, registerRunConfigSupport } from './runConfigs';
import { RunStatusBar, RunsView } from './runsView';
import { registerTrainCommands } from './trainCommands';
import { registerTrackerCommands } from './trackerCommands';
import { registerDryRun } from './dryRunCommand';
import type { TrainingContext } from './trainingContext';
import { TrainingService } from './trainingService';

/** Training in the editor: run configs, detached TRL runs, the Runs view, the dashboard, the status bar. */
export function activateTraining(ctx: Ctx, discovery: DiscoveryService, previews: Previews): void {
  const service = ctx.register(new TrainingService(ctx));
  ctx.register(new RunsView(service));
  ctx.register(new RunStatusBar(service));
  const schema = loadTrlSchema(ctx);
  registerRunConfigSupport(ctx, schema, RUNNER_FIELDS, discovery);
  const dashboard = ctx.register(new DashboardPanel(ctx.extension.extensionUri, service));
  ctx.register(new RunFailureNotifier(service, dashboard));
  const training: TrainingContext = { ctx, service, dashboard, discovery, schema, previews };
  registerTrainCommands(training);
  registerDryRun(training);
  registerRunCommands(training);
  registerCompareGenerations(training);
  registerTrackerCommands(training);
}
