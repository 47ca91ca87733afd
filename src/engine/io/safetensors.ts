/**
 * safetensors reader and writer.
 *
 * Layout: u64 LE header length N, N bytes of JSON
 * `{"__metadata__": {..strings..}, "name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}`
 * (padded with spaces), then the data section; offsets are relative to the data section. All data is
 * little-endian. "C64" (complex64) is interleaved (re, im) float32 pairs.
 *
 * Tensors may share bytes of the data section, but not many times over: the data they read together
 * is bounded by the data section's size (checked on the header, before anything is decoded), so a
 * small file cannot list one region a million times. Decoded tensors are charged to the file's
 * OpenBudget.
 */
import { LoadError } from '../errors';
import { type HostTensor, isComplex, shapeString, sizeOf } from '../tensor';
import { OpenBudget } from './budget';
import { checkedElementCount, decodeElements, ELEMENT_KINDS, type ElementKind } from './npy';

const DTYPES: Record<string, ElementKind> = {
  F16: 'f2',
  BF16: 'bf2',
  F32: 'f4',
  F64: 'f8',
  C64: 'c8',
  I8: 'i1',
  I16: 'i2',
  I32: 'i4',
  I64: 'i8',
  U8: 'u1',
  U16: 'u2',
  U32: 'u4',
  U64: 'u8',
  BOOL: 'b1',
};

/** The reference implementation refuses headers above 100 MB; so do we (it bounds the JSON parse). */
const MAX_HEADER = 100_000_000;

export interface SafetensorsFile {
  /** Tensors in header order. */
  tensors: Map<string, HostTensor>;
  /** `__metadata__` (string → string); empty when absent. */
  metadata: Record<string, string>;
}

export function readSafetensors(
  bytes: Uint8Array,
  file: string,
  budget = new OpenBudget(file),
): SafetensorsFile {
  function fail(reason: string): never {
    throw new LoadError(file, reason);
  }
  if (bytes.length < 8) fail(bytes.length === 0 ? 'is empty' : 'is too short to be a safetensors file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLenBig = view.getBigUint64(0, true);
  if (headerLenBig > BigInt(bytes.length - 8)) {
    // A text or zip file read as safetensors lands here: give the likely cause.
    if (bytes[0] === 0x50 && bytes[1] === 0x4b)
      fail('is a zip archive (a torch.save checkpoint?), not safetensors');
    fail(
      `is not a valid safetensors file: its header length field says ${headerLenBig} bytes but the file has only ${bytes.length - 8} after it`,
    );
  }
  const headerLen = Number(headerLenBig);
  if (headerLen > MAX_HEADER)
    fail(`has a header of ${headerLen} bytes, more than the 100 MB safetensors allows`);
  if (headerLen < 2) fail('is not a valid safetensors file: its header is empty');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    fail('is not a valid safetensors file: its header is not UTF-8 text');
  }
  if (text.trimStart()[0] !== '{') fail('is not a valid safetensors file: its header is not a JSON object');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`has a header that is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    fail('is not a valid safetensors file: its header is not a JSON object');
  const h = header as Record<string, unknown>;

  const metadata = readMetadata(h.__metadata__, fail);
  // JSON.parse moves integer-like keys ("0", "12") to the front; take the order from the text itself.
  const names = topLevelKeys(text, fail).filter((name) => name !== '__metadata__');
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) fail(`names tensor '${name}' twice in its header`);
    seen.add(name);
  }
  checkSharing(names, h, dataLen, fail);
  const tensors = new Map<string, HostTensor>();
  for (const name of names)
    tensors.set(name, readTensor(name, h[name], bytes, dataStart, dataLen, budget, fail));
  return { tensors, metadata };
}

function readMetadata(m: unknown, fail: (reason: string) => never): Record<string, string> {
  if (m === undefined) return {};
  if (m === null || typeof m !== 'object' || Array.isArray(m))
    fail("has a '__metadata__' that is not an object");
  const entries: [string, string][] = [];
  for (const [k, v] of Object.entries(m)) {
    // The format says strings only; numbers and booleans written by hand are accepted as their text.
    if (typeof v === 'string') entries.push([k, v]);
    else if (typeof v === 'number' || typeof v === 'boolean') entries.push([k, String(v)]);
    else fail(`has a '__metadata__' entry '${k}' that is not a string`);
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays plain data.
  return Object.fromEntries(entries);
}

/** Data sections are read at most this many times over, plus MAX_SHARED_SLACK bytes (as torch views). */
const MAX_SHARING = 4;
const MAX_SHARED_SLACK = 32 * 2 ** 20;

/**
 * Refuses headers whose tensors together read the data section many times over (malformed entries
 * are left to readTensor's messages).
 */
function checkSharing(
  names: string[],
  h: Record<string, unknown>,
  dataLen: number,
  fail: (reason: string) => never,
): void {
  let total = 0;
  for (const name of names) {
    const offsets = (h[name] as { data_offsets?: unknown } | null)?.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2) continue;
    const [begin, end] = offsets as unknown[];
    if (typeof begin === 'number' && typeof end === 'number' && begin < end) total += end - begin;
  }
  if (total > MAX_SHARING * dataLen + MAX_SHARED_SLACK)
    fail(
      `its tensors together read ${total} bytes from a data section of ${dataLen}: shared data_offsets ` +
        `may repeat the data at most ${MAX_SHARING} times over (a corrupt or hostile header)`,
    );
}

function readTensor(
  name: string,
  entry: unknown,
  bytes: Uint8Array,
  dataStart: number,
  dataLen: number,
  budget: OpenBudget,
  fail: (reason: string) => never,
): HostTensor {
  const where = `tensor '${name}'`;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
    fail(`${where}: its header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') fail(`${where}: missing 'dtype'`);
  const kind = DTYPES[dtype];
  if (!kind)
    fail(
      `${where} has dtype ${dtype}, which jacscope does not read (supported: ${Object.keys(DTYPES).join(', ')})`,
    );
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number'))
    fail(`${where}: 'shape' must be a list of integers`);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    offsets.some((o) => !Number.isSafeInteger(o) || o < 0)
  )
    fail(`${where}: 'data_offsets' must be two non-negative integers`);
  const [begin, end] = offsets as number[];
  if (begin > end || end > dataLen)
    fail(
      `${where}: its data_offsets [${begin}, ${end}] lie outside the data section (${dataLen} bytes) — the file is truncated or corrupt`,
    );
  const info = ELEMENT_KINDS[kind];
  const n = checkedElementCount(shape as number[], Math.floor(dataLen / info.size));
  if (n === null) fail(`${where}: invalid shape ${shapeString(shape as number[])}`);
  if (n * info.size !== end - begin)
    fail(
      `${where}: shape ${shapeString(shape as number[])} of ${dtype} needs ${n === Infinity ? 'more bytes than the file holds' : `${n * info.size} bytes`}, but its data_offsets span ${end - begin}`,
    );
  budget.bytes(n * 8 * (isComplex(info.dtype) ? 2 : 1));
  const { data, imag } = decodeElements(bytes, dataStart + begin, n, kind, true);
  const t: HostTensor = { dtype: info.dtype, shape: [...(shape as number[])], data };
  if (imag) t.imag = imag;
  return t;
}

/**
 * The keys of the top-level JSON object, in file order. The text is already known to be valid JSON
 * (JSON.parse accepted it), so a small scanner that tracks strings and nesting depth is enough.
 */
function topLevelKeys(text: string, fail: (reason: string) => never): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        keys.push(JSON.parse(text.slice(i, j + 1)) as string);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  if (new Set(keys).size !== keys.length) {
    const dup = keys.find((k, i) => keys.indexOf(k) !== i);
    fail(`names '${dup}' twice in its header`);
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------------
// writeSafetensors

const WRITE_DTYPES = { float32: 'F32', float64: 'F64', complex64: 'C64' } as const;

/**
 * Writes tensors (float32, float64 or complex64, by each tensor's dtype) in iteration order, with the
 * header padded with spaces to a multiple of 8 bytes so that the data section is 8-byte aligned.
 */
export function writeSafetensors(
  tensors: Map<string, HostTensor> | Iterable<[string, HostTensor]>,
  metadata?: Record<string, string>,
): Uint8Array {
  // The header JSON is assembled by hand: JSON.stringify of an object would move integer-like
  // names ("0", "12") to the front and so change the order the tensors are written in.
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  const names = new Set<string>();
  const placed: { t: HostTensor; offset: number; dtype: 'F32' | 'F64' | 'C64' }[] = [];
  for (const [name, t] of tensors) {
    const dtype = WRITE_DTYPES[t.dtype as keyof typeof WRITE_DTYPES];
    if (!dtype)
      throw new Error(
        `writeSafetensors: tensor '${name}' has dtype ${t.dtype}; write float32, float64 or complex64`,
      );
    const n = sizeOf(t.shape);
    if (t.data.length !== n || (dtype === 'C64' && t.imag?.length !== n))
      throw new Error(
        `writeSafetensors: tensor '${name}' data does not match its shape ${shapeString(t.shape)}`,
      );
    if (name === '__metadata__' || names.has(name))
      throw new Error(`writeSafetensors: bad or repeated name '${name}'`);
    const bytesLen = n * (dtype === 'F32' ? 4 : 8);
    const entry = { dtype, shape: t.shape, data_offsets: [offset, offset + bytesLen] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    names.add(name);
    placed.push({ t, offset, dtype });
    offset += bytesLen;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  const base = 8 + headerLen;
  for (const { t, offset: o, dtype } of placed) {
    const p = base + o;
    const n = t.data.length;
    if (dtype === 'F32') for (let i = 0; i < n; i++) view.setFloat32(p + 4 * i, t.data[i], true);
    else if (dtype === 'F64') for (let i = 0; i < n; i++) view.setFloat64(p + 8 * i, t.data[i], true);
    else {
      const im = t.imag!;
      for (let i = 0; i < n; i++) {
        view.setFloat32(p + 8 * i, t.data[i], true);
        view.setFloat32(p + 8 * i + 4, im[i], true);
      }
    }
  }
  return out;
}
