import * as fs from 'node:fs';
import { Reader } from 'protobufjs/minimal';
import { filesUnder } from '../../shared/files';

/**
 * TensorBoard event files (`events.out.tfevents.*`, what transformers' TensorBoardCallback writes
 * with `report_to: tensorboard`): TFRecord framing around `tensorflow.Event` protos, decoded with
 * protobufjs's reader. What a run needs from them: each logged step's scalars (tags
 * `train/<key>`, `eval/<key>`, as transformers' rewrite_logs names TRL's keys) with its wall time,
 * and the training arguments the callback writes once as `args/text_summary`.
 */

export interface TensorBoardScalars {
  /** By step: TRL's metric keys (`reward`, `eval_loss`), as trainer_state.json would name them. */
  steps: Map<number, { time: number; metrics: Record<string, number> }>;
  /** The training arguments (GRPOConfig.to_json_string()), when written. */
  args?: Record<string, unknown>;
  files: string[];
}

/** Event files under `dir` (TRL's logging_dir is `<output_dir>/runs/<date>_<host>/`), checkpoints left out. */
export function tensorBoardFiles(dir: string, depth = 3): string[] {
  return filesUnder(dir, depth, {
    matches: (name) => name.startsWith('events.out.tfevents.'),
    enter: (name) => !/^checkpoint-\d+$/.test(name),
  });
}

/**
 * TRL's own name of a key transformers' logger callbacks rewrote (`rewrite_logs`: `eval_x` became
 * `eval/x`, every other key `train/<key>`), for TensorBoard and Trackio alike; undefined for others.
 */
export function trlMetricKey(logged: string): string | undefined {
  if (logged.startsWith('train/')) return logged.slice('train/'.length);
  if (logged.startsWith('eval/')) return `eval_${logged.slice('eval/'.length)}`;
  return undefined;
}

export function readTensorBoard(dir: string): TensorBoardScalars {
  const result: TensorBoardScalars = { steps: new Map(), files: tensorBoardFiles(dir).sort() };
  for (const file of result.files) {
    for (const record of records(fs.readFileSync(file))) readEvent(record, result);
  }
  return result;
}

/** TFRecord: u64 length, u32 crc of it, the data, u32 crc of it; a record cut short (still being written) ends the file. */
function* records(buffer: Buffer): Generator<Uint8Array> {
  let at = 0;
  while (at + 12 <= buffer.length) {
    const length = Number(buffer.readBigUInt64LE(at));
    if (at + 12 + length + 4 > buffer.length) return;
    yield buffer.subarray(at + 12, at + 12 + length);
    at += 12 + length + 4;
  }
}

const WIRE_LENGTH_DELIMITED = 2;

/** tensorflow.Event: wall_time = 1 (double), step = 2 (int64), summary = 5 (Summary). */
function readEvent(bytes: Uint8Array, into: TensorBoardScalars): void {
  const reader = Reader.create(bytes);
  let time = 0;
  let step = 0;
  let values: { tag: string; value?: number; text?: string }[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if (field === 1) time = reader.double();
    else if (field === 2) step = Number(reader.int64());
    else if (field === 5 && (tag & 7) === WIRE_LENGTH_DELIMITED) values = readSummary(reader.bytes());
    else reader.skipType(tag & 7);
  }
  for (const { tag, value, text } of values) {
    if (tag === 'args/text_summary' && text) {
      try {
        into.args = JSON.parse(text) as Record<string, unknown>;
      } catch {}
      continue;
    }
    if (value === undefined || !Number.isFinite(value)) continue;
    const key = trlMetricKey(tag);
    if (!key) continue;
    const entry = into.steps.get(step) ?? { time, metrics: {} };
    entry.metrics[key] = value;
    into.steps.set(step, entry);
  }
}

/** Summary: value = 1 (repeated Value: tag = 1, simple_value = 2 (float), tensor = 8 (TensorProto: string_val = 8)). */
function readSummary(bytes: Uint8Array): { tag: string; value?: number; text?: string }[] {
  const reader = Reader.create(bytes);
  const values: { tag: string; value?: number; text?: string }[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 !== 1 || (tag & 7) !== WIRE_LENGTH_DELIMITED) {
      reader.skipType(tag & 7);
      continue;
    }
    const value = Reader.create(reader.bytes());
    const entry: { tag: string; value?: number; text?: string } = { tag: '' };
    while (value.pos < value.len) {
      const inner = value.uint32();
      const field = inner >>> 3;
      if (field === 1) entry.tag = value.string();
      else if (field === 2) entry.value = value.float();
      else if (field === 8 && (inner & 7) === WIRE_LENGTH_DELIMITED) entry.text = tensorText(value.bytes());
      else value.skipType(inner & 7);
    }
    values.push(entry);
  }
  return values;
}

function tensorText(bytes: Uint8Array): string | undefined {
  const reader = Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 8 && (tag & 7) === WIRE_LENGTH_DELIMITED) return new TextDecoder().decode(reader.bytes());
    reader.skipType(tag & 7);
  }
  return undefined;
}
