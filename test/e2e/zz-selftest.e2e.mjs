export const options = {
  workspace: 'examples/emoji-length',
  workspaceName: 'a#b&c+d 報酬 %20',
  files: { 'README.md': '# Hello 報酬\n\nsome *text*\n' },
  settings: { 'workbench.colorTheme': 'Default Dark Modern', 'security.workspace.trust.enabled': true },
};
export async function run({ page, runCommand, openFile, findFrame, screenshot, assert, setSettings, waitFor }) {
  const trust = page.getByRole('button', { name: /Yes, I trust the authors/ });
  await trust.waitFor({ timeout: 10000 });
  await trust.click();
  await openFile('README.md');
  await runCommand('Markdown: Open Preview to the Side');
  const f = await findFrame('h1');
  assert.match(await f.locator('h1').textContent(), /Hello 報酬/);
  setSettings({ 'workbench.colorTheme': 'Default High Contrast' });
  await waitFor(async () => (await page.locator('.monaco-workbench').getAttribute('class')).includes('hc-black'), { message: 'hc' });
  await screenshot('hc');
}
