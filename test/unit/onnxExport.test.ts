import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { EXPORT_MANIFEST, exportDir, exportKey, findExport, listExports } from '../../src/sampling/core/onnxExport';
import { PythonScriptError, runPythonScript } from '../../src/shared/pythonProcess';

function modelFolder(root: string, name: string): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), '{"architectures": ["LlamaForCausalLM"]}');
  fs.writeFileSync(path.join(dir, 'model.safetensors'), 'weights v1');
  return dir;
}

function finish(dir: string, source: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, EXPORT_MANIFEST), JSON.stringify({ source }));
}

test('an export is found for the files it was made from, and made again when they change', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx export モデル '));
  const cache = path.join(root, 'cache');
  const model = modelFolder(root, 'Small LM');
  assert.equal(findExport(cache, model), undefined, 'nothing exported yet');
  const target = exportDir(cache, model);
  assert.match(path.basename(target), /^Small_LM-[0-9a-f]{16}$/);
  fs.mkdirSync(target, { recursive: true });
  assert.equal(findExport(cache, model), undefined, 'an export without its manifest is unfinished');
  finish(target, model);
  assert.equal(findExport(cache, model), target);
  assert.deepEqual(listExports(cache), [{ dir: target, source: model, fresh: true }]);

  const before = exportKey(model);
  fs.writeFileSync(path.join(model, 'model.safetensors'), 'weights v2, longer');
  assert.notEqual(exportKey(model), before, 'new weights, new key');
  assert.equal(findExport(cache, model), undefined);
  assert.deepEqual(listExports(cache), [{ dir: target, source: model, fresh: false }]);
  fs.writeFileSync(path.join(model, '.DS_Store'), 'x');
  fs.mkdirSync(path.join(model, 'checkpoint-5'));
  assert.equal(exportKey(model), exportKey(model), 'stable');
  assert.equal(findExport(cache, path.join(root, 'nowhere')), undefined);
});

test('a shipped script failing is explained by its error line, or by its traceback', async () => {
  const script = (body: string) => ({ python: 'python3', args: ['-c', body], cwd: os.tmpdir() });
  await assert.rejects(
    runPythonScript(
      script('import sys; print("loading x", file=sys.stderr); print("error: the onnx package is missing", file=sys.stderr); sys.exit(1)'),
    ),
    (error: unknown) => error instanceof PythonScriptError && error.message === 'the onnx package is missing' && !error.cancelled,
  );
  await assert.rejects(runPythonScript(script('raise KeyError("nope")')), /KeyError: 'nope'/);
  await assert.rejects(runPythonScript({ ...script('pass'), python: path.join(os.tmpdir(), 'no such python') }), /cannot start/);
  const lines: string[] = [];
  await runPythonScript({ ...script('import sys\nfor i in range(3): print(f"step {i}", file=sys.stderr)'), onLine: (l) => lines.push(l) });
  assert.deepEqual(lines, ['step 0', 'step 1', 'step 2']);
  const controller = new AbortController();
  const running = runPythonScript({ ...script('import time; time.sleep(30)'), signal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(running, (error: unknown) => error instanceof PythonScriptError && error.cancelled);
});
