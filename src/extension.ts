import type * as vscode from 'vscode';
import { Ctx } from './ctx';
import { activateDiscovery } from './discovery/editor';

export function activate(context: vscode.ExtensionContext): void {
  const ctx = new Ctx(context);
  activateDiscovery(ctx);
}

export function deactivate(): void {}
