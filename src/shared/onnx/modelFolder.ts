import * as fs from 'node:fs';
import * as path from 'node:path';

/** A model folder that cannot be used, with the file at fault and what to do. */
export class ModelFolderError extends Error {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'ModelFolderError';
  }
}

/** The JSON files of a Hugging Face export folder, as read, and where its ONNX graph is. */
export interface ModelFolder {
  dir: string;
  config: Record<string, unknown>;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  generationConfig: Record<string, unknown>;
  /** From chat_template.jinja (transformers 5 saves it there) or tokenizer_config.json. */
  chatTemplate?: string;
  onnxFile: string;
}

/** Where exporters put the graph, in order of preference (optimum, transformers.js, a bare export). */
const ONNX_CANDIDATES = ['onnx/model.onnx', 'onnx/decoder_model_merged.onnx', 'model.onnx', 'decoder_model_merged.onnx'];

const LAYOUT = 'config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx, as optimum-cli export onnx writes them';

/** Reads and checks an ONNX model folder; every failure names the missing or broken file. */
export function readModelFolder(dir: string): ModelFolder {
  const root = path.resolve(dir);
  if (!fs.existsSync(root)) throw new ModelFolderError(`model folder not found: ${root}`);
  if (!fs.statSync(root).isDirectory()) throw new ModelFolderError(`${root} is a file; give the model folder (${LAYOUT})`);
  const json = (name: string, required: boolean): Record<string, unknown> => {
    const file = path.join(root, name);
    if (!fs.existsSync(file)) {
      if (!required) return {};
      throw new ModelFolderError(`${root} is incomplete: ${name} is missing (an ONNX model folder has ${LAYOUT})`, file);
    }
    try {
      const value = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch (error) {
      throw new ModelFolderError(`${file} is not valid JSON (${(error as Error).message}): export the model again`, file);
    }
    throw new ModelFolderError(`${file} does not hold a JSON object: export the model again`, file);
  };
  const config = json('config.json', true);
  const tokenizerJson = json('tokenizer.json', true);
  const tokenizerConfig = json('tokenizer_config.json', true);
  const generationConfig = json('generation_config.json', false);
  const found = ONNX_CANDIDATES.map((rel) => path.join(root, rel)).find((file) => fs.existsSync(file));
  if (!found)
    throw new ModelFolderError(
      `${root} is incomplete: onnx/model.onnx is missing (an ONNX model folder has ${LAYOUT})`,
      path.join(root, 'onnx', 'model.onnx'),
    );
  if (fs.statSync(found).size === 0) throw new ModelFolderError(`${found} is empty: export the model again`, found);
  return {
    dir: root,
    config,
    tokenizerJson,
    tokenizerConfig,
    generationConfig,
    chatTemplate: chatTemplateOf(root, tokenizerConfig),
    onnxFile: found,
  };
}

function chatTemplateOf(root: string, tokenizerConfig: Record<string, unknown>): string | undefined {
  const file = path.join(root, 'chat_template.jinja');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8');
  const template = tokenizerConfig.chat_template;
  if (typeof template === 'string') return template;
  // A list of named templates: the one named "default".
  if (Array.isArray(template)) {
    const named = template.find((t) => t && (t as { name?: string }).name === 'default') as { template?: string } | undefined;
    return named?.template;
  }
  return undefined;
}

/** Whether `dir` looks like an ONNX model folder (cheap: no JSON is parsed). */
export function isOnnxModelFolder(dir: string): boolean {
  try {
    return fs.existsSync(path.join(dir, 'config.json')) && ONNX_CANDIDATES.some((rel) => fs.existsSync(path.join(dir, rel)));
  } catch {
    return false;
  }
}
