export const options = {
  workspace: 'examples/emoji-length',
  workspaceName: 'a#b&c+d 報酬 %20',
  files: { 'README.md': '# Hello 報酬\n\nsome *text*\n' },
  settings: { 'workbench.colorTheme': 'Default Dark Modern', 'security.workspace.trust.enabled': true },
};
export async function run({ page, workspace, runCommand, openFile, findFrame, screenshot, assert, log, frames, setSettings, waitFor }) {
  log(workspace);
  // trust modal?
  const trust = page.getByRole('button', { name: /Yes, I trust the authors/ });
  await trust.waitFor({ timeout: 10000 });
  await screenshot('trust');
  await trust.click();
  await openFile('README.md');
  await runCommand('Markdown: Open Preview to the Side');
  const f = await findFrame('h1');
  assert.match(await f.locator('h1').textContent(), /Hello 報酬/);
  log('frames', frames().length);
  await screenshot('preview');
  setSettings({ 'workbench.colorTheme': 'Default Light Modern' });
  await waitFor(async () => (await page.locator('.monaco-workbench').getAttribute('class')).includes('vs') && !(await page.locator('.monaco-workbench').getAttribute('class')).includes('vs-dark'), { message: 'light theme' });
  await screenshot('light');
}
