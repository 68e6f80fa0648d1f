import type * as vscode from 'vscode';
import { Ctx } from './ctx';
import { activateDiscovery } from './discovery/editor';
import { registerGettingStarted } from './gettingStarted';
import { activatePreviews } from './previews/editor';
import { activateSampling } from './sampling/editor';
import { activateTraining } from './training/editor';

export function activate(context: vscode.ExtensionContext): void {
  const ctx = new Ctx(context);
  const discovery = activateDiscovery(ctx);
  const previews = activatePreviews(ctx, discovery);
  activateTraining(ctx, discovery, previews);
  activateSampling(ctx);
  registerGettingStarted(ctx);
}

export function deactivate(): void {}
