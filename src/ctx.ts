import * as vscode from 'vscode';
import { Config } from './config';
import { pythonScript, type PYTHON_SCRIPTS } from './shared/pythonScripts';

/**
 * What every feature receives: the extension context, settings, the output channel, and one
 * place to register disposables so that deactivation releases everything.
 */
export class Ctx {
  readonly config = new Config();
  readonly output: vscode.LogOutputChannel;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('GRPO Studio', { log: true });
    this.register(this.output);
  }

  register<T extends vscode.Disposable>(disposable: T): T {
    this.extension.subscriptions.push(disposable);
    return disposable;
  }

  registerCommand(id: string, run: (...args: any[]) => unknown): void {
    this.register(vscode.commands.registerCommand(id, run));
  }

  /** A script the extension ships in python/. */
  pythonScript(name: keyof typeof PYTHON_SCRIPTS): string {
    return pythonScript(this.extension.extensionUri.fsPath, name);
  }

  get distPath(): string {
    return vscode.Uri.joinPath(this.extension.extensionUri, 'dist').fsPath;
  }
}
