/**
 * Checkpoints: a model's architecture and parameters, and for `last` checkpoints everything a
 * resumed run needs to continue bit-identically.
 *
 * File format (version 1), all integers little-endian:
 *
 *   bytes 0–7    magic `BSEGCKPT` (ASCII)
 *   bytes 8–11   uint32 H, the byte length of the header
 *   bytes 12…    the header: UTF-8 JSON, padded with spaces so the blob starts at a multiple of 8
 *   then         the blob: every tensor's values as float32 little-endian, back to back
 *
 * The header is `{ format: "boundary-seg-checkpoint", version: 1, kind: "best" | "last", epoch,
 * model: UNetConfig, resume?: { config: TrainConfig, step, lr: LrState, rows: EpochRow[],
 * optimizer: { name, step } }, tensors: [{ name, shape, offset, length }] }` with `offset` in
 * bytes from the blob's start and `length` in elements. Tensor names are dotted paths in groups:
 * `params.*`, `state.*` (batch-norm statistics), and in `last` checkpoints `optim.m.*`,
 * `optim.v.*` (Adam) or `optim.velocity.*` (SGD), and `best.params.*`, `best.state.*` when the
 * best parameters are not the current ones. Non-finite numbers in the header are the strings
 * "NaN", "Infinity", "-Infinity". Float32 values are stored exactly, so a restored tensor equals
 * the saved one bit for bit.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../core/files.js';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { formatErrors } from '../core/codecs.js';
import { dispose, scope } from '../core/engine.js';
import { InputError } from '../core/errors.js';
import { tensor } from '../core/ops.js';
import { key } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import { treeUnflatten } from '../core/tree.js';
import { closed, JsonFloat, NonNegativeInt, PositiveNumber } from './codecs.js';
import type { LrState } from './lr-schedule.js';
import { EpochRowCodec, type EpochRow } from './metrics-log.js';
import { namedLeaves } from './model.js';
import { TrainConfigCodec, UNetConfigCodec, type TrainConfig } from './train-config.js';
import { checkUNetConfig, unet, type UNetConfig, type UNetParams, type UNetState } from './unet.js';

/** The format version this code writes and reads. */
export const CHECKPOINT_VERSION = 1;
const MAGIC = 'BSEGCKPT';
const FORMAT = 'boundary-seg-checkpoint';

/** The optimizer's state in a `last` checkpoint. */
export type OptimizerSnapshot =
  | { readonly name: 'adam'; readonly step: number; readonly m: UNetParams; readonly v: UNetParams }
  | { readonly name: 'sgd'; readonly step: number; readonly velocity: UNetParams };

/** What `--resume` needs beyond the parameters. */
export interface ResumeState {
  readonly config: TrainConfig;
  /** Optimizer steps taken so far (dropout keys derive from it). */
  readonly step: number;
  /** The learning-rate schedule's state: rate, best score and epoch, epochs without improvement. */
  readonly lr: LrState;
  /** The per-epoch records so far. */
  readonly rows: readonly EpochRow[];
  readonly optimizer: OptimizerSnapshot;
  /** The best epoch's parameters and state, when they differ from the current ones. */
  readonly best?: { readonly params: UNetParams; readonly state: UNetState };
}

/** A checkpoint in memory (tensors on the selected backend, owned by the caller). */
export interface Checkpoint {
  readonly kind: 'best' | 'last';
  /** Epochs completed by the parameters (the best epoch + 1 for `best`). */
  readonly epoch: number;
  readonly model: UNetConfig;
  readonly params: UNetParams;
  readonly state: UNetState;
  readonly resume?: ResumeState;
}

const TensorEntry = t.type({ name: t.string, shape: t.array(NonNegativeInt), offset: NonNegativeInt, length: NonNegativeInt });

const LrStateCodec = t.type({ lr: PositiveNumber, bestScore: JsonFloat, bestEpoch: t.number, stale: NonNegativeInt });

const HeaderCodec = closed('CheckpointHeader', {
  format: t.literal(FORMAT),
  version: t.literal(CHECKPOINT_VERSION),
  kind: t.keyof({ best: null, last: null }),
  epoch: NonNegativeInt,
  model: UNetConfigCodec,
  tensors: t.array(TensorEntry),
}, {
  resume: t.type({
    config: TrainConfigCodec,
    step: NonNegativeInt,
    lr: LrStateCodec,
    rows: t.array(EpochRowCodec),
    optimizer: t.type({ name: t.keyof({ adam: null, sgd: null }), step: NonNegativeInt }),
  }),
});

type Header = t.TypeOf<typeof HeaderCodec>;

/** A decoded checkpoint file before its tensors are uploaded. */
export interface CheckpointFile {
  readonly file: string;
  readonly header: Header;
  /** Values by tensor name. */
  readonly arrays: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;
}

/** Serialises a checkpoint (reads every tensor back from its backend). */
export async function encodeCheckpoint(ckpt: Checkpoint): Promise<Uint8Array> {
  const groups: Array<[string, unknown]> = [['params', ckpt.params], ['state', ckpt.state]];
  const r = ckpt.resume;
  if (r) {
    if (r.optimizer.name === 'adam') groups.push(['optim.m', r.optimizer.m], ['optim.v', r.optimizer.v]);
    else groups.push(['optim.velocity', r.optimizer.velocity]);
    if (r.best) groups.push(['best.params', r.best.params], ['best.state', r.best.state]);
  }
  const named = groups.flatMap(([prefix, tree]) => namedLeaves(tree, prefix));
  const tensors: t.TypeOf<typeof TensorEntry>[] = [];
  let offset = 0;
  for (const [name, x] of named) {
    tensors.push({ name, shape: [...x.shape], offset, length: x.size });
    offset += x.size * 4;
  }
  const header: Header = {
    format: FORMAT,
    version: CHECKPOINT_VERSION,
    kind: ckpt.kind,
    epoch: ckpt.epoch,
    model: checkUNetConfig(ckpt.model),
    tensors,
    ...(r ? { resume: { config: r.config, step: r.step, lr: r.lr, rows: [...r.rows], optimizer: { name: r.optimizer.name, step: r.optimizer.step } } } : {}),
  };
  let json = JSON.stringify(HeaderCodec.encode(header), (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  const start = 12 + Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (start % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const blobStart = 12 + headerBytes.length;
  const out = new Uint8Array(blobStart + offset);
  const view = new DataView(out.buffer);
  out.set(Buffer.from(MAGIC, 'ascii'), 0);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  for (let i = 0; i < named.length; i++) {
    const values = await named[i]![1].data();
    const base = blobStart + tensors[i]!.offset;
    for (let j = 0; j < values.length; j++) view.setFloat32(base + 4 * j, values[j]!, true);
  }
  return out;
}

function bad(file: string, message: string): InputError {
  return new InputError('checkpoint', file, message);
}

/**
 * Parses checkpoint bytes. `file` names the source in errors.
 *
 * @throws InputError naming `file`: not a checkpoint, another format version, a header that does
 * not decode (the field is named), or a blob shorter than the header says.
 */
export function decodeCheckpoint(bytes: Uint8Array, file: string): CheckpointFile {
  if (bytes.length < 12 || Buffer.from(bytes.subarray(0, 8)).toString('ascii') !== MAGIC) throw bad(file, `not a boundary-seg checkpoint (no ${MAGIC} magic)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw bad(file, `truncated: the header needs ${headerLength} bytes, ${bytes.length - 12} present`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.subarray(12, 12 + headerLength)).toString('utf8'));
  } catch (e) {
    throw bad(file, `corrupt header: ${(e as Error).message}`);
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (version !== CHECKPOINT_VERSION) throw bad(file, `format version ${String(version)} is not supported (this build reads version ${CHECKPOINT_VERSION})`);
  const decoded = HeaderCodec.decode(json);
  if (E.isLeft(decoded)) throw bad(file, `bad header: ${formatErrors(decoded.left)[0]}`);
  const header = decoded.right;
  const blobStart = 12 + headerLength;
  const arrays = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const entry of header.tensors) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (size !== entry.length) throw bad(file, `tensor ${entry.name}: shape [${entry.shape.join(', ')}] does not hold ${entry.length} values`);
    const end = blobStart + entry.offset + 4 * entry.length;
    if (end > bytes.length) throw bad(file, `truncated: tensor ${entry.name} ends at byte ${end}, the file has ${bytes.length}`);
    const data = new Float32Array(entry.length);
    for (let j = 0; j < entry.length; j++) data[j] = view.getFloat32(blobStart + entry.offset + 4 * j, true);
    arrays.set(entry.name, { shape: entry.shape, data });
  }
  return { file, header, arrays };
}

/** Reads and parses a checkpoint file. @throws InputError naming the file when it cannot be read. */
export async function readCheckpointFile(path: string): Promise<CheckpointFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw bad(path, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, expected a checkpoint file' : `cannot read: ${(e as Error).message}`);
  }
  return decodeCheckpoint(bytes, path);
}

const ARCH_FIELDS = ['inChannels', 'classes', 'base', 'depth', 'batchNorm', 'dropout', 'activation', 'init'] as const;

/**
 * Checks that a checkpoint's architecture equals `expected` (fields that `expected` leaves out
 * are not compared).
 *
 * @throws InputError naming the file and every field that differs.
 */
export function checkArchitecture(ckpt: CheckpointFile, expected: Partial<UNetConfig>): void {
  const have = checkUNetConfig(ckpt.header.model);
  const diffs = ARCH_FIELDS.filter((f) => expected[f] !== undefined && expected[f] !== have[f]).map((f) => `${f} ${String(have[f])} (expected ${String(expected[f])})`);
  if (diffs.length > 0) throw bad(ckpt.file, `checkpoint of another architecture: ${diffs.join(', ')}`);
}

/** Uploads the group `prefix` shaped like `template` (same names and shapes, else InputError). */
function restoreGroup<T>(ckpt: CheckpointFile, prefix: string, template: T): T {
  const expected = namedLeaves(template, prefix);
  const present = [...ckpt.arrays.keys()].filter((n) => n.startsWith(`${prefix}.`));
  const extra = present.filter((n) => !expected.some(([e]) => e === n));
  if (extra.length > 0) throw bad(ckpt.file, `checkpoint of another architecture: unexpected tensor ${extra[0]} for ${describeArch(ckpt.header.model)}`);
  const leaves: Tensor[] = expected.map(([name, like]) => {
    const a = ckpt.arrays.get(name);
    if (!a) throw bad(ckpt.file, `checkpoint of another architecture: tensor ${name} is missing for ${describeArch(ckpt.header.model)}`);
    if (a.shape.length !== like.rank || a.shape.some((d, i) => d !== like.shape[i])) {
      throw bad(ckpt.file, `checkpoint of another architecture: tensor ${name} has shape [${a.shape.join(', ')}], the model needs [${like.shape.join(', ')}]`);
    }
    return tensor(a.data, a.shape);
  });
  return treeUnflatten(template, leaves);
}

function describeArch(m: UNetConfig): string {
  return `U-Net base ${m.base}, depth ${m.depth}, ${m.inChannels} channel(s), ${m.classes} classes${m.batchNorm ? ', batch norm' : ''}`;
}

/**
 * Uploads a parsed checkpoint's tensors, checking every name and shape against the architecture
 * in its header (and against `expected`, when given).
 *
 * @throws InputError naming the file on any mismatch.
 */
export function restoreCheckpoint(ckpt: CheckpointFile, expected?: Partial<UNetConfig>): Checkpoint {
  if (expected) checkArchitecture(ckpt, expected);
  const h = ckpt.header;
  const model = checkUNetConfig(h.model);
  const template = unet(model).init(key(0));
  try {
    return scope(() => {
      const params = restoreGroup(ckpt, 'params', template.params);
      const state = restoreGroup(ckpt, 'state', template.state);
      let resume: ResumeState | undefined;
      if (h.resume) {
        const o = h.resume.optimizer;
        const optimizer: OptimizerSnapshot = o.name === 'adam'
          ? { name: 'adam', step: o.step, m: restoreGroup(ckpt, 'optim.m', template.params), v: restoreGroup(ckpt, 'optim.v', template.params) }
          : { name: 'sgd', step: o.step, velocity: restoreGroup(ckpt, 'optim.velocity', template.params) };
        const hasBest = [...ckpt.arrays.keys()].some((n) => n.startsWith('best.params.'));
        const best = hasBest ? { params: restoreGroup(ckpt, 'best.params', template.params), state: restoreGroup(ckpt, 'best.state', template.state) } : undefined;
        resume = { config: h.resume.config, step: h.resume.step, lr: h.resume.lr, rows: h.resume.rows, optimizer, ...(best ? { best } : {}) };
      }
      return { kind: h.kind, epoch: h.epoch, model, params, state, ...(resume ? { resume } : {}) };
    });
  } finally {
    dispose(template);
  }
}

/** Reads, checks and uploads a checkpoint file (see `restoreCheckpoint`). */
export async function loadCheckpoint(path: string, expected?: Partial<UNetConfig>): Promise<Checkpoint> {
  return restoreCheckpoint(await readCheckpointFile(path), expected);
}


/** Encodes and writes a checkpoint atomically. */
export async function saveCheckpoint(path: string, ckpt: Checkpoint): Promise<void> {
  await writeFileAtomic(path, await encodeCheckpoint(ckpt));
}
