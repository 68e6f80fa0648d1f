import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import initSqlJs, { type Database, type SqlJsStatic } from 'sql.js';
import { trlMetricKey } from './tensorboard';

/**
 * Trackio projects (`report_to: trackio`, TRL's recommended tracker): one SQLite database per
 * project in the Trackio folder (`$TRACKIO_DIR`, else `$HF_HOME/trackio`), read with sql.js
 * (SQLite in wasm, no native build). transformers' TrackioCallback logs each step's metrics under
 * `train/<key>` with `train/global_step`, on Trackio's own step counter; TRL logs its completions
 * as a `trackio.table` and its profiling timings as rows of their own, which are left out.
 */

export interface TrackioRunInfo {
  /** The project's database file. */
  db: string;
  project: string;
  id: string;
  name: string;
  /** Seconds since the epoch. */
  created: number;
  /** The training arguments (and the model's config) the callback stored. */
  config: Record<string, unknown>;
}

export interface TrackioRun extends TrackioRunInfo {
  /** By trainer step: TRL's metric keys (`reward`, `eval_loss`), as trainer_state.json would name them. */
  steps: Map<number, { time: number; metrics: Record<string, number> }>;
  /** The newest logged table's rows of each step (prompt, completion, one column per reward, advantage). */
  completions: Map<number, { time: number; rows: Record<string, unknown>[] }>;
}

export const TRACKIO_DB_EXTENSION = '.db';
/** `project.db::run name`: one run of a Trackio project, as `grpo-studio report` and the dashboard take it. */
export const TRACKIO_RUN_SEPARATOR = '::';

export function trackioDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRACKIO_DIR) return env.TRACKIO_DIR;
  const hfHome = env.HF_HOME ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'huggingface');
  return path.join(hfHome, 'trackio');
}

/** The project databases in a Trackio folder (Trackio's registries left out). */
export function trackioProjects(dir = trackioDirectory()): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((name) => name.endsWith(TRACKIO_DB_EXTENSION) && !name.startsWith('registry-'))
      .map((name) => path.join(dir, name))
      .sort();
  } catch {
    return [];
  }
}

/** `file.db` or `file.db::run`, split; undefined for anything else (a folder named `x.db` included). */
export function parseTrackioRunId(id: string): { db: string; run?: string } | undefined {
  const at = id.lastIndexOf(TRACKIO_DB_EXTENSION + TRACKIO_RUN_SEPARATOR);
  const db = at >= 0 ? id.slice(0, at + TRACKIO_DB_EXTENSION.length) : id.endsWith(TRACKIO_DB_EXTENSION) ? id : undefined;
  if (!db || fs.statSync(db, { throwIfNoEntry: false })?.isDirectory()) return undefined;
  return { db, run: id.slice(db.length + TRACKIO_RUN_SEPARATOR.length) || undefined };
}

/** `project-run.report.html`: where a Trackio run's report goes (its project lives in Trackio's cache, not in a run folder). */
export function trackioReportFile(id: { db: string; run?: string }): string {
  const project = path.basename(id.db, TRACKIO_DB_EXTENSION);
  return `${id.run ? `${project}-${id.run.replace(/[\\/:*?"<>| ]+/g, '-')}` : project}.report.html`;
}

/** When the project was last written, seconds since the epoch: its write-ahead log included. */
export function trackioLastWrite(db: string): number {
  const mtime = (file: string) => (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0) / 1000;
  return Math.max(mtime(db), mtime(`${db}-wal`));
}

let loading: Promise<SqlJsStatic> | undefined;

function sqlite(): Promise<SqlJsStatic> {
  // The build copies sql.js's wasm next to the bundles; run from source (the unit tests), it is the package's.
  const bundled = path.join(__dirname, 'sql-wasm.wasm');
  const wasm = fs.existsSync(bundled) ? bundled : require.resolve('sql.js/dist/sql-wasm.wasm');
  loading ??= initSqlJs({ wasmBinary: new Uint8Array(fs.readFileSync(wasm)).buffer });
  return loading;
}

/**
 * The database as SQLite would see it now: a project being written to (Trackio's databases are in
 * WAL mode) has its latest commits in `<db>-wal`, which sql.js, reading one buffer, cannot open.
 */
async function openProject(db: string): Promise<Database> {
  const SQL = await sqlite();
  let wal: Buffer | undefined;
  try {
    wal = fs.readFileSync(`${db}-wal`);
  } catch {}
  return new SQL.Database(withWalFrames(fs.readFileSync(db), wal));
}

const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/**
 * Copies the committed frames of a write-ahead log into the database image (sqlite.org/fileformat2.html,
 * "The Write-Ahead Log"): frames whose salts match the log's and whose cumulative checksum holds,
 * up to the last commit frame. The image is marked as a rollback-journal database, as if checkpointed.
 */
export function withWalFrames(db: Buffer, wal: Buffer | undefined): Uint8Array {
  if (!wal || wal.length < WAL_HEADER) return db;
  const magic = wal.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return db;
  const bigEndian = magic === 0x377f0683;
  const pageSize = wal.readUInt32BE(8) === 1 ? 65536 : wal.readUInt32BE(8);
  const salts = [wal.readUInt32BE(16), wal.readUInt32BE(20)];
  let sums = checksum(wal.subarray(0, 24), [0, 0], bigEndian);
  if (sums[0] !== wal.readUInt32BE(24) || sums[1] !== wal.readUInt32BE(28)) return db;
  const pages = new Map<number, Buffer>();
  let committed = new Map<number, Buffer>();
  let committedSize = 0;
  for (let at = WAL_HEADER; at + FRAME_HEADER + pageSize <= wal.length; at += FRAME_HEADER + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salts[0] || wal.readUInt32BE(at + 12) !== salts[1]) break;
    sums = checksum(wal.subarray(at, at + 8), sums, bigEndian);
    sums = checksum(wal.subarray(at + FRAME_HEADER, at + FRAME_HEADER + pageSize), sums, bigEndian);
    if (sums[0] !== wal.readUInt32BE(at + 16) || sums[1] !== wal.readUInt32BE(at + 20)) break;
    pages.set(wal.readUInt32BE(at), wal.subarray(at + FRAME_HEADER, at + FRAME_HEADER + pageSize));
    const sizeAfterCommit = wal.readUInt32BE(at + 4);
    if (sizeAfterCommit > 0) {
      committed = new Map(pages);
      committedSize = sizeAfterCommit;
    }
  }
  if (committedSize === 0) return db;
  const image = Buffer.alloc(committedSize * pageSize);
  db.copy(image, 0, 0, Math.min(db.length, image.length));
  for (const [page, data] of committed) if (page <= committedSize) data.copy(image, (page - 1) * pageSize);
  image[18] = 1;
  image[19] = 1;
  return image;
}

function checksum(bytes: Buffer, [s0, s1]: number[], bigEndian: boolean): number[] {
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    const x0 = bigEndian ? bytes.readUInt32BE(i) : bytes.readUInt32LE(i);
    const x1 = bigEndian ? bytes.readUInt32BE(i + 4) : bytes.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}

const text = (value: unknown): string => (value instanceof Uint8Array ? new TextDecoder().decode(value) : String(value ?? ''));
const seconds = (iso: unknown): number => Date.parse(text(iso)) / 1000 || 0;

function parseObject(value: unknown): Record<string, unknown> {
  try {
    const parsed = JSON.parse(text(value)) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The runs of a project, oldest first. */
export async function trackioRuns(db: string): Promise<TrackioRunInfo[]> {
  const database = await openProject(db);
  try {
    return runsIn(database, db);
  } finally {
    database.close();
  }
}

function runsIn(database: Database, db: string): TrackioRunInfo[] {
  const project = path.basename(db, TRACKIO_DB_EXTENSION);
  const [configs] = database.exec('SELECT run_id, run_name, config, created_at FROM configs ORDER BY created_at');
  const runs: TrackioRunInfo[] = (configs?.values ?? []).map(([id, name, config, created]) => ({
    db,
    project,
    id: text(id),
    name: text(name),
    created: seconds(created),
    config: parseObject(config),
  }));
  // A run logged without a config (trackio.log before trackio.config) is known by its metrics alone.
  const [others] = database.exec(
    'SELECT run_id, run_name, MIN(timestamp) FROM metrics WHERE run_id NOT IN (SELECT run_id FROM configs) GROUP BY run_id',
  );
  for (const [id, name, created] of others?.values ?? []) {
    runs.push({ db, project, id: text(id), name: text(name), created: seconds(created), config: {} });
  }
  return runs.sort((a, b) => a.created - b.created);
}

/** One run of a project by name or id (the newest of that name); the project's only run when none is named. */
export async function readTrackioRun(db: string, run?: string): Promise<TrackioRun> {
  const database = await openProject(db);
  try {
    const runs = runsIn(database, db);
    const info = run === undefined ? (runs.length === 1 ? runs[0] : undefined) : runs.filter((r) => r.name === run || r.id === run).pop();
    if (!info) {
      const names = runs.map((r) => r.name).join(', ') || 'none';
      throw new Error(
        run === undefined
          ? `${db} holds ${runs.length} runs (${names}): name one as ${db}${TRACKIO_RUN_SEPARATOR}<run>`
          : `${db} has no run named ${run} (its runs: ${names})`,
      );
    }
    return { ...info, ...readMetrics(database, info.id) };
  } finally {
    database.close();
  }
}

function readMetrics(database: Database, runId: string): Pick<TrackioRun, 'steps' | 'completions'> {
  const steps: TrackioRun['steps'] = new Map();
  const completions: TrackioRun['completions'] = new Map();
  const statement = database.prepare('SELECT timestamp, metrics FROM metrics WHERE run_id = ? ORDER BY id');
  statement.bind([runId]);
  while (statement.step()) {
    const [timestamp, raw] = statement.get();
    const time = seconds(timestamp);
    const logged = parseObject(raw);
    for (const value of Object.values(logged)) {
      const table = value as { _type?: unknown; _value?: unknown };
      if (table?._type !== 'trackio.table' || !Array.isArray(table._value)) continue;
      const byStep = new Map<number, Record<string, unknown>[]>();
      for (const row of table._value as Record<string, unknown>[]) {
        if (typeof row?.step !== 'number') continue;
        byStep.set(row.step, [...(byStep.get(row.step) ?? []), row]);
      }
      for (const [step, rows] of byStep) completions.set(step, { time, rows });
    }
    const step = logged['train/global_step'];
    if (typeof step !== 'number') continue;
    const entry = steps.get(step) ?? { time, metrics: {} };
    for (const [key, value] of Object.entries(logged)) {
      if (key === 'train/global_step' || typeof value !== 'number' || !Number.isFinite(value)) continue;
      entry.metrics[trlMetricKey(key) ?? key] = value;
    }
    steps.set(step, entry);
  }
  statement.free();
  return { steps, completions };
}

const matches = new Map<string, { stamp: string; run?: TrackioRunInfo }>();

/**
 * The Trackio run that logged a TRL output folder: the newest run of the Trackio folder's projects
 * whose stored `output_dir` is that folder (a relative one, as given at launch, matches its end).
 */
export async function trackioRunOf(outputDir: string, dir = trackioDirectory()): Promise<TrackioRunInfo | undefined> {
  const target = path.resolve(outputDir);
  const projects = trackioProjects(dir);
  // A run once found stays that folder's; a miss is looked for again when a project changes.
  const stamp = projects.map((db) => `${db}:${fs.statSync(db, { throwIfNoEntry: false })?.mtimeMs}`).join('|');
  const cached = matches.get(`${dir}|${target}`);
  if (cached && (cached.run || cached.stamp === stamp)) return cached.run;
  let best: TrackioRunInfo | undefined;
  for (const db of projects) {
    let runs: TrackioRunInfo[];
    try {
      runs = await trackioRuns(db);
    } catch {
      continue;
    }
    for (const run of runs) {
      const given = run.config.output_dir;
      if (typeof given !== 'string' || !given) continue;
      const same = path.isAbsolute(given)
        ? path.resolve(given) === target
        : target === path.resolve(given) || target.endsWith(path.sep + path.normalize(given).replace(/[\\/]+$/, ''));
      if (same && (!best || run.created >= best.created)) best = run;
    }
  }
  matches.set(`${dir}|${target}`, { stamp, run: best });
  return best;
}
