// A throwaway extension with the same identity and view container as GRPO Studio, packaged with
// the project's own @vscode/vsce. Used only to test the e2e harness itself
// (`node test/e2e/run.mjs --stub`), e.g. while the real extension does not build.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exec, REPO_ROOT } from '../../scripts/setup-code-server.mjs';

export async function buildStubVsix() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'grpo-stub-ext-'));
  const manifest = {
    name: 'grpo-studio',
    displayName: 'GRPO Studio',
    description: 'stub for the e2e harness self-test',
    version: '0.0.0-stub',
    publisher: 'grpo-studio',
    license: 'Apache-2.0',
    engines: { vscode: '^1.95.0' },
    main: './extension.js',
    activationEvents: ['onLanguage:python', 'workspaceContains:**/*.py'],
    capabilities: { untrustedWorkspaces: { supported: true } },
    contributes: {
      commands: [{ command: 'grpoStudio.showOutput', title: 'Show Output', category: 'GRPO' }],
      viewsContainers: { activitybar: [{ id: 'grpo', title: 'GRPO', icon: 'media/grpo.svg' }] },
      views: { grpo: [{ id: 'grpoStudio.rewardFunctions', name: 'Reward Functions' }] },
    },
  };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(path.join(dir, 'LICENSE'), 'Apache-2.0 (stub)\n');
  writeFileSync(path.join(dir, 'README.md'), '# GRPO Studio stub\n');
  writeFileSync(
    path.join(dir, 'extension.js'),
    `const vscode = require('vscode');
exports.activate = (context) => {
  const out = vscode.window.createOutputChannel('GRPO Studio');
  out.appendLine('stub activated');
  const items = [{ label: 'stub_reward (reward.py)' }];
  context.subscriptions.push(
    out,
    vscode.commands.registerCommand('grpoStudio.showOutput', () => out.show()),
    vscode.window.registerTreeDataProvider('grpoStudio.rewardFunctions', {
      getTreeItem: (e) => new vscode.TreeItem(e.label),
      getChildren: () => items,
    }),
  );
};
exports.deactivate = () => {};
`,
  );
  mkdirSync(path.join(dir, 'media'));
  writeFileSync(
    path.join(dir, 'media', 'grpo.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="2" d="M4 20V4h16v16zM8 16l3-4 3 2 3-6"/></svg>\n',
  );
  const out = path.join(dir, 'grpo-studio-stub.vsix');
  const vsce = path.join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = await exec(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '-o', out], { cwd: dir });
  if (r.code !== 0) throw new Error(`vsce package (stub) failed:\n${r.stdout}${r.stderr}`);
  return out;
}
