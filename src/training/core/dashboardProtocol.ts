/**
 * Messages between the extension host and the training Dashboard webview (webview/dashboard).
 * The host posts `DashboardHostMessage`s; the webview posts `DashboardWebviewMessage`s, which the
 * host checks with `parseDashboardMessage` before acting on them (the webview cannot write files:
 * the host does). No `vscode` import: the webview bundles this file.
 */
import type { Message, PromptValue } from '../../shared/vocabulary';
import type { CompletionRow, CompletionsEvent, RunEvent, RunStatus } from './events';

export type { CompletionRow, CompletionsEvent, PromptValue, RunEvent, RunStatus };

export interface RunInfo {
  /** Stable id (the run directory, say); `events`, `status` and the webview's messages name it. */
  id: string;
  /** Shown in the runs bar and tooltips ("full", "LoRA r=16"). */
  name: string;
  status: RunStatus;
  /** A CSS color (`#d18616`); by default the theme's chart colors, in run order. */
  color?: string;
  /** Started here (not a run made elsewhere): a stopped or failed one can be resumed. */
  resumable?: boolean;
}

export type DashboardHostMessage =
  /** Forget everything shown; `events` for each run follow. `strings`: the host's l10n bundle. */
  | { type: 'reset'; runs: RunInfo[]; strings?: Record<string, string> }
  /** Events appended to the run's events.jsonl, in order: first the whole history, then live batches. */
  | { type: 'events'; runId: string; events: RunEvent[] }
  /** `error`: why a failed run failed, when its events do not say (a runner that died); `eta`: seconds left. */
  | { type: 'status'; runId: string; status: RunStatus; step?: number; maxSteps?: number; error?: string; eta?: number };

/** What a `status` message says of its run. */
export type RunStatusReport = Omit<Extract<DashboardHostMessage, { type: 'status' }>, 'type' | 'runId'>;

/** A completion to append to a samples file (webview/rewardPreview's format). */
export interface SampleRow {
  prompt: PromptValue;
  completion: PromptValue;
}

export type DashboardWebviewMessage =
  | { type: 'ready' }
  | { type: 'addToSamples'; rows: SampleRow[] }
  | { type: 'exportCsv'; runId: string }
  /** Save a chart image; `name` is a suggested file name (no folders), `dataUrl` a base64 PNG. */
  | { type: 'savePng'; name: string; dataUrl: string }
  | { type: 'stop'; runId: string }
  | { type: 'resume'; runId: string };

export const LIMITS = {
  sampleRows: 1000,
  /** Characters of one prompt or completion (a message list: all contents together). */
  text: 100_000,
  messages: 256,
  id: 512,
  fileName: 128,
  /** Characters of the data URL: about 24 MB of PNG. */
  dataUrl: 32 * 2 ** 20,
} as const;

const PNG_DATA_URL = 'data:image/png;base64,';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const FILE_NAME = /^[^\\/:*?"<>|\u0000-\u001f]+$/;

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isId = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= LIMITS.id;

function parseMessages(value: unknown[]): Message[] | undefined {
  if (value.length > LIMITS.messages) return undefined;
  const messages: Message[] = [];
  let length = 0;
  for (const item of value) {
    if (!isObject(item) || typeof item.role !== 'string' || typeof item.content !== 'string') return undefined;
    length += item.role.length + item.content.length;
    messages.push({ role: item.role, content: item.content });
  }
  return length <= LIMITS.text ? messages : undefined;
}

function parsePromptValue(value: unknown): PromptValue | undefined {
  if (typeof value === 'string') return value.length <= LIMITS.text ? value : undefined;
  return Array.isArray(value) ? parseMessages(value) : undefined;
}

function parseRows(value: unknown): SampleRow[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > LIMITS.sampleRows) return undefined;
  const rows: SampleRow[] = [];
  for (const row of value) {
    if (!isObject(row)) return undefined;
    const prompt = parsePromptValue(row.prompt);
    const completion = parsePromptValue(row.completion);
    if (prompt === undefined || completion === undefined) return undefined;
    rows.push({ prompt, completion });
  }
  return rows;
}

function isFileName(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length <= LIMITS.fileName && FILE_NAME.test(value) && value.trim() !== '' && !/^\.+$/.test(value)
  );
}

function isPngDataUrl(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= LIMITS.dataUrl &&
    value.startsWith(PNG_DATA_URL) &&
    BASE64.test(value.slice(PNG_DATA_URL.length))
  );
}

/** The message as a fresh, well-typed object (unknown fields dropped), or undefined when malformed or too big. */
export function parseDashboardMessage(raw: unknown): DashboardWebviewMessage | undefined {
  if (!isObject(raw)) return undefined;
  switch (raw.type) {
    case 'ready':
      return { type: 'ready' };
    case 'addToSamples': {
      const rows = parseRows(raw.rows);
      return rows && { type: 'addToSamples', rows };
    }
    case 'exportCsv':
    case 'stop':
    case 'resume':
      return isId(raw.runId) ? { type: raw.type, runId: raw.runId } : undefined;
    case 'savePng':
      return isFileName(raw.name) && isPngDataUrl(raw.dataUrl) ? { type: 'savePng', name: raw.name, dataUrl: raw.dataUrl } : undefined;
    default:
      return undefined;
  }
}
