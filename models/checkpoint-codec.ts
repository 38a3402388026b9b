/**
 * Checkpoints: a model's architecture and parameters, and for `last` checkpoints everything a
 * resumed run needs to continue bit-identically. The format is described in `docs/formats.md`.
 *
 * File format (version 2), all integers little-endian:
 *
 *   bytes 0–7    magic `BSEGCKPT` (ASCII)
 *   bytes 8–11   uint32 H, the byte length of the header
 *   bytes 12…    the header: UTF-8 JSON, padded with spaces so the blob starts at a multiple of 8
 *   then         the blob: every tensor's values as float32 little-endian, back to back
 *   last 32      the SHA-256 digest of every byte before it (magic, length, header and blob)
 *
 * The header is `{ format: "boundary-seg-checkpoint", version: 2, kind: "best" | "last", epoch,
 * model: NetworkConfig, resume?: { config: TrainConfig, step, lr: LrState, lastRow: EpochRow,
 * optimizer: { name, step } }, tensors: [{ name, shape, offset, length }] }` with `offset` in
 * bytes from the blob's start and `length` in elements. Tensor names are dotted paths in groups:
 * `params.*`, `state.*` (batch-norm statistics), and in `last` checkpoints `optim.m.*`,
 * `optim.v.*` (Adam) or `optim.velocity.*` (SGD), and `best.params.*`, `best.state.*` when the
 * best parameters are not the current ones. Non-finite numbers in the header are the strings
 * "NaN", "Infinity", "-Infinity". Float32 values are stored exactly, so a restored tensor equals
 * the saved one bit for bit.
 *
 * `model` is the network's config with its defaults filled in: a U-Net's without `arch` (exactly
 * as before there was a choice of network), the reference network's with `arch: "reference"`. A
 * reader that predates the reference network refuses such a file (an unknown field `arch`)
 * instead of misreading it, so the format version stays 2.
 *
 * The per-epoch metrics rows live in the run's `metrics.csv` only (version 1 stored them all in
 * `last.ckpt`, which grew with every epoch); a `last` checkpoint keeps the row of its own epoch
 * (`lastRow`), so a run killed between writing `last.ckpt` and `metrics.csv` still resumes.
 *
 * Reading refuses (InputError naming the file): another magic, an unknown version, a checksum
 * that does not match, a file shorter or longer than its header says (trailing bytes), tensors
 * that are not back to back, and non-finite weights. Version 1 files (no checksum, rows in the
 * header) still load, with a warning in `Checkpoint.warnings`.
 *
 * This module works on bytes and runs on any platform (the checksum is the host's native SHA-256 where
 * it registers one, Node's, else `sha256.ts`'s JavaScript); reading and writing checkpoint files is Node's (`checkpoint.ts`).
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { formatErrors } from '../core/codecs.js';
import { dispose, scope } from '../core/engine.js';
import { InputError } from '../core/errors.js';
import { checkOptionKeys } from '../core/options.js';
import { tensor } from '../core/ops.js';
import { key } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import { treeUnflatten } from '../core/tree.js';
import { closed, JsonFloat, NonNegativeInt, PositiveNumber } from './codecs.js';
import type { LrState } from './lr-schedule.js';
import { EpochRowCodec, type EpochRow } from './metrics-log.js';
import { namedLeaves } from './model.js';
import { checkNetworkConfig, describeNetwork, modelFor, NETWORK_ARCHS, NETWORK_CONFIG_KEYS, type FullNetworkConfig, type NetworkArch, type NetworkConfig, type NetworkParams, type NetworkState } from './networks.js';
import { REFERENCE_UNET_CONFIG_KEYS } from './reference-unet.js';
import { sha256 as sha256Js } from './sha256.js';
import { getHost } from '../core/host.js';
import { NetworkConfigCodec, TrainConfigCodec, type TrainConfig } from './train-config.js';
import { UNET_CONFIG_KEYS } from './unet.js';

/** SHA-256 of `bytes`: the host's native digest when it has one (Node), else JavaScript's (the same bytes). */
function sha256(bytes: Uint8Array): Uint8Array {
  return (getHost().digest?.sha256 ?? sha256Js)(bytes);
}

/** The format version this code writes. */
export const CHECKPOINT_VERSION = 2;
/** The versions this code reads (version 1 with a warning: it has no checksum). */
export const READABLE_CHECKPOINT_VERSIONS: readonly number[] = [1, 2];
/** The checksum of version 2: SHA-256 of every byte before the 32-byte digest at the end. */
export const CHECKPOINT_CHECKSUM = 'sha256';
const DIGEST_BYTES = 32;
const MAGIC = 'BSEGCKPT';
const FORMAT = 'boundary-seg-checkpoint';

/** The optimizer's state in a `last` checkpoint. */
export type OptimizerSnapshot =
  | { readonly name: 'adam'; readonly step: number; readonly m: NetworkParams; readonly v: NetworkParams }
  | { readonly name: 'sgd'; readonly step: number; readonly velocity: NetworkParams };

/** What `--resume` needs beyond the parameters. */
export interface ResumeState {
  readonly config: TrainConfig;
  /** Optimizer steps taken so far (dropout keys derive from it). */
  readonly step: number;
  /** The learning-rate schedule's state: rate, best score and epoch, epochs without improvement. */
  readonly lr: LrState;
  /**
   * The per-epoch records so far, one per epoch done (`train` needs them to resume). Not stored in
   * the file since version 2: `loadCheckpoint` reads them from the `metrics.csv` beside a `last`
   * checkpoint (with the checkpoint's own `lastRow`); absent when there is no `metrics.csv`.
   * When saving, only the last row is written.
   */
  readonly rows?: readonly EpochRow[];
  readonly optimizer: OptimizerSnapshot;
  /** The best epoch's parameters and state, when they differ from the current ones. */
  readonly best?: { readonly params: NetworkParams; readonly state: NetworkState };
}

/** A checkpoint in memory (tensors on the selected backend, owned by the caller). */
export interface Checkpoint {
  readonly kind: 'best' | 'last';
  /** Epochs completed by the parameters (the best epoch + 1 for `best`). */
  readonly epoch: number;
  /** The network (a U-Net's config is stored without `arch`, so older readers read it too). */
  readonly model: NetworkConfig;
  readonly params: NetworkParams;
  readonly state: NetworkState;
  readonly resume?: ResumeState;
  /** What the reader should be told about the file (a version-1 file has no checksum). */
  readonly warnings?: readonly string[];
}

const TensorEntry = t.type({ name: t.string, shape: t.array(NonNegativeInt), offset: NonNegativeInt, length: NonNegativeInt });

const LrStateCodec = t.type({ lr: PositiveNumber, bestScore: JsonFloat, bestEpoch: t.number, stale: NonNegativeInt });

const OptimizerCodec = t.type({ name: t.keyof({ adam: null, sgd: null }), step: NonNegativeInt });

const headerFields = {
  format: t.literal(FORMAT),
  kind: t.keyof({ best: null, last: null }),
  epoch: NonNegativeInt,
  model: NetworkConfigCodec,
  tensors: t.array(TensorEntry),
};

const HeaderV2Codec = closed('CheckpointHeader', { ...headerFields, version: t.literal(2) }, {
  resume: t.type({ config: TrainConfigCodec, step: NonNegativeInt, lr: LrStateCodec, lastRow: EpochRowCodec, optimizer: OptimizerCodec }),
});

const HeaderV1Codec = closed('CheckpointHeader', { ...headerFields, version: t.literal(1) }, {
  resume: t.type({ config: TrainConfigCodec, step: NonNegativeInt, lr: LrStateCodec, rows: t.array(EpochRowCodec), optimizer: OptimizerCodec }),
});

type HeaderV2 = t.TypeOf<typeof HeaderV2Codec>;
type HeaderV1 = t.TypeOf<typeof HeaderV1Codec>;
type Header = HeaderV1 | HeaderV2;

/** A decoded checkpoint file before its tensors are uploaded. */
export interface CheckpointFile {
  readonly file: string;
  readonly header: Header;
  /** Values by tensor name (every one finite). */
  readonly arrays: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;
  /** What the reader should be told (a version-1 file has no checksum). */
  readonly warnings: readonly string[];
}

/** Whether this machine stores floats little-endian (then the blob is copied, not converted). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8');

/** Serialises a checkpoint (reads every tensor back from its backend), in format version 2. */
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
  const lastRow = r?.rows?.[r.rows.length - 1];
  if (r && lastRow === undefined) throw new InputError('encodeCheckpoint', 'resume.rows', 'a last checkpoint needs the row of its epoch (resume.rows is empty)');
  const header: HeaderV2 = {
    format: FORMAT,
    version: 2,
    kind: ckpt.kind,
    epoch: ckpt.epoch,
    model: checkNetworkConfig(ckpt.model),
    tensors,
    ...(r && lastRow ? { resume: { config: r.config, step: r.step, lr: r.lr, lastRow, optimizer: { name: r.optimizer.name, step: r.optimizer.step } } } : {}),
  };
  let json = JSON.stringify(HeaderV2Codec.encode(header), (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  const start = 12 + utf8.encode(json).length;
  json += ' '.repeat((8 - (start % 8)) % 8);
  const headerBytes = utf8.encode(json);
  const blobStart = 12 + headerBytes.length;
  const end = blobStart + offset;
  const out = new Uint8Array(end + DIGEST_BYTES);
  const view = new DataView(out.buffer);
  out.set(utf8.encode(MAGIC), 0);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  for (let i = 0; i < named.length; i++) {
    const values = await named[i]![1].data();
    const base = blobStart + tensors[i]!.offset;
    if (LITTLE_ENDIAN) out.set(new Uint8Array(Float32Array.from(values).buffer), base);
    else for (let j = 0; j < values.length; j++) view.setFloat32(base + 4 * j, values[j]!, true);
  }
  out.set(sha256(out.subarray(0, end)), end);
  return out;
}

function bad(file: string, message: string): InputError {
  return new InputError('checkpoint', file, message);
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/**
 * Parses checkpoint bytes. `file` names the source in errors.
 *
 * @throws InputError naming `file`: not a checkpoint, an unsupported format version, a checksum
 * mismatch (version 2), a file shorter (truncated) or longer (trailing bytes) than the header
 * says, a header that does not decode (the field is named), tensors that are not back to back,
 * or a non-finite value in a tensor (the tensor and index are named).
 */
export function decodeCheckpoint(bytes: Uint8Array, file: string): CheckpointFile {
  if (bytes.length < 12 || String.fromCharCode(...bytes.subarray(0, 8)) !== MAGIC) throw bad(file, `not a boundary-seg checkpoint (no ${MAGIC} magic)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw bad(file, `truncated: the header needs ${headerLength} bytes, ${bytes.length - 12} present`);
  const blobStart = 12 + headerLength;
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8.decode(bytes.subarray(12, blobStart)));
  } catch (e) {
    // A damaged version-2 header: say so when the digest at the end does not match.
    const damaged = bytes.length > blobStart + DIGEST_BYTES && hex(sha256(bytes.subarray(0, bytes.length - DIGEST_BYTES))) !== hex(bytes.subarray(bytes.length - DIGEST_BYTES));
    throw bad(file, `corrupt header${damaged ? ' (and no matching checksum)' : ''}: ${(e as Error).message}`);
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (!READABLE_CHECKPOINT_VERSIONS.includes(version as number)) {
    throw bad(file, `format version ${String(version)} is not supported (this build reads versions ${READABLE_CHECKPOINT_VERSIONS.join(' and ')})`);
  }
  const decoded = version === 2 ? HeaderV2Codec.decode(json) : HeaderV1Codec.decode(json);
  if (E.isLeft(decoded)) {
    const damaged = version === 2 && bytes.length > blobStart + DIGEST_BYTES && hex(sha256(bytes.subarray(0, bytes.length - DIGEST_BYTES))) !== hex(bytes.subarray(bytes.length - DIGEST_BYTES));
    throw bad(file, damaged ? 'corrupt: checksum mismatch (the header was changed or damaged after it was written)' : `bad header: ${formatErrors(decoded.left)[0]}`);
  }
  const header: Header = decoded.right;

  // The tensors lie back to back from the blob's start; the file ends there (version 1) or after the digest (version 2).
  let blobBytes = 0;
  for (const entry of header.tensors) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (size !== entry.length) throw bad(file, `tensor ${entry.name}: shape [${entry.shape.join(', ')}] does not hold ${entry.length} values`);
    if (entry.offset !== blobBytes) throw bad(file, `tensor ${entry.name} starts at blob byte ${entry.offset}, expected ${blobBytes} (tensors are stored back to back)`);
    blobBytes += 4 * entry.length;
  }
  const end = blobStart + blobBytes;
  const expected = end + (header.version === 2 ? DIGEST_BYTES : 0);
  if (bytes.length < expected) {
    const short = header.tensors.find((e) => blobStart + e.offset + 4 * e.length > bytes.length);
    throw bad(file, short ? `truncated: tensor ${short.name} ends at byte ${blobStart + short.offset + 4 * short.length}, the file has ${bytes.length}` : `truncated: the file has ${bytes.length} bytes, the header says ${expected}`);
  }
  if (bytes.length > expected) throw bad(file, `${bytes.length - expected} trailing bytes after the ${header.version === 2 ? 'checksum' : 'last tensor'} (the file has ${bytes.length} bytes, the header says ${expected})`);
  const warnings: string[] = [];
  if (header.version === 2) {
    const stored = hex(bytes.subarray(end, end + DIGEST_BYTES));
    const actual = hex(sha256(bytes.subarray(0, end)));
    if (stored !== actual) throw bad(file, `corrupt: checksum mismatch (SHA-256 of bytes 0–${end - 1} is ${actual.slice(0, 16)}…, the file stores ${stored.slice(0, 16)}…): the file was changed or damaged after it was written`);
  } else {
    warnings.push(`${file}: checkpoint format version 1 has no checksum, so damage cannot be detected; it loads, and runs write version 2`);
  }

  const arrays = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const entry of header.tensors) {
    const at = blobStart + entry.offset;
    let data: Float32Array;
    if (LITTLE_ENDIAN) {
      data = new Float32Array(new Uint8Array(bytes.subarray(at, at + 4 * entry.length)).buffer); // a copy, aligned
    } else {
      data = new Float32Array(entry.length);
      for (let j = 0; j < entry.length; j++) data[j] = view.getFloat32(at + 4 * j, true);
    }
    for (let j = 0; j < data.length; j++) {
      if (!Number.isFinite(data[j]!)) throw bad(file, `tensor ${entry.name} holds a non-finite value (${data[j]}) at index ${j}: refused (a diverged or damaged checkpoint)`);
    }
    arrays.set(entry.name, { shape: entry.shape, data });
  }
  return { file, header, arrays, warnings };
}

/** The fields only a U-Net config has: an `expected` that gives one means a U-Net. */
const UNET_ONLY_KEYS: readonly string[] = UNET_CONFIG_KEYS.filter((k) => k !== 'arch' && !(REFERENCE_UNET_CONFIG_KEYS as readonly string[]).includes(k));

/**
 * Checks that a checkpoint's architecture equals `expected` (fields that `expected` leaves out
 * are not compared). The network is compared first: `expected.arch`, or a U-Net when `expected`
 * gives a field only the U-Net has (`depth`, `batchNorm`, …); then the fields.
 *
 * @throws InputError naming the file and the other network, or every field that differs; or an
 * unknown key of `expected` (`expected.clases`).
 */
export function checkArchitecture(ckpt: CheckpointFile, expected: Partial<NetworkConfig>): void {
  checkOptionKeys('checkArchitecture', expected, NETWORK_CONFIG_KEYS, 'expected');
  const have = checkNetworkConfig(ckpt.header.model);
  const want = expected as Readonly<Record<string, unknown>>;
  const haveArch = 'arch' in have ? 'reference' : 'unet';
  const wantArch = want['arch'] ?? (UNET_ONLY_KEYS.some((k) => want[k] !== undefined) ? 'unet' : undefined);
  if (wantArch !== undefined && !NETWORK_ARCHS.includes(wantArch as NetworkArch)) throw new InputError('checkArchitecture', 'expected.arch', `unknown network ${JSON.stringify(wantArch)}: expected one of ${NETWORK_ARCHS.join(', ')}`);
  if (wantArch !== undefined && wantArch !== haveArch) {
    throw bad(ckpt.file, `checkpoint of another architecture: the ${describeArch(have)} (expected ${wantArch === 'reference' ? 'the reference network' : 'a U-Net'})`);
  }
  const fields = (haveArch === 'reference' ? REFERENCE_UNET_CONFIG_KEYS : UNET_CONFIG_KEYS).filter((f) => f !== 'arch') as readonly string[];
  const got = have as unknown as Readonly<Record<string, unknown>>;
  const diffs = fields.filter((f) => want[f] !== undefined && want[f] !== got[f]).map((f) => `${f} ${String(got[f])} (expected ${String(want[f])})`);
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

function describeArch(m: NetworkConfig | FullNetworkConfig): string {
  return `${describeNetwork(m)}, ${m.inChannels} channel(s), ${m.classes} classes`;
}

/**
 * Uploads a parsed checkpoint's tensors, checking every name and shape against the architecture
 * in its header (and against `expected`, when given). `rows`: the metrics rows of a version-2
 * `last` checkpoint (see `ResumeState.rows`); version 1 files carry their own.
 *
 * @throws InputError naming the file on any mismatch, or an unknown key of `expected`.
 */
export function restoreCheckpoint(ckpt: CheckpointFile, expected?: Partial<NetworkConfig>, rowsOption?: readonly EpochRow[]): Checkpoint {
  checkOptionKeys('restoreCheckpoint', expected, NETWORK_CONFIG_KEYS, 'expected');
  if (expected) checkArchitecture(ckpt, expected);
  const h = ckpt.header;
  const model = checkNetworkConfig(h.model);
  const template = modelFor(model).init(key(0));
  try {
    return scope(() => {
      const params = restoreGroup(ckpt, 'params', template.params);
      const state = restoreGroup(ckpt, 'state', template.state);
      let resume: ResumeState | undefined;
      if (h.resume) {
        const o = h.resume.optimizer;
        const rows = h.version === 1 ? (h.resume as HeaderV1['resume'] & object).rows : rowsOption;
        const optimizer: OptimizerSnapshot = o.name === 'adam'
          ? { name: 'adam', step: o.step, m: restoreGroup(ckpt, 'optim.m', template.params), v: restoreGroup(ckpt, 'optim.v', template.params) }
          : { name: 'sgd', step: o.step, velocity: restoreGroup(ckpt, 'optim.velocity', template.params) };
        const hasBest = [...ckpt.arrays.keys()].some((n) => n.startsWith('best.params.'));
        const best = hasBest ? { params: restoreGroup(ckpt, 'best.params', template.params), state: restoreGroup(ckpt, 'best.state', template.state) } : undefined;
        resume = { config: h.resume.config, step: h.resume.step, lr: h.resume.lr, ...(rows ? { rows } : {}), optimizer, ...(best ? { best } : {}) };
      }
      return { kind: h.kind, epoch: h.epoch, model, params, state, ...(resume ? { resume } : {}), ...(ckpt.warnings.length > 0 ? { warnings: ckpt.warnings } : {}) };
    });
  } finally {
    dispose(template);
  }
}

/** The metrics file a run folder keeps beside its `last.ckpt`. */
export const METRICS_FILE = 'metrics.csv';
