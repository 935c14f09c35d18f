import * as fs from 'node:fs';
import { writeFileAtomic } from '../runtime/atomic';
import { ModelDirError } from '../errors';

/**
 * A training checkpoint in one file, written atomically (temp + fsync + rename), so a kill at any moment
 * leaves the previous checkpoint or the new one: 8-byte magic, 4-byte header length, JSON header, then the
 * float32 arrays back to back (offsets in the header). One file means no half-updated pair of files.
 */
const MAGIC = 'WLASLCK1';

export interface CheckpointArray {
  name: string;
  data: Float32Array;
}

export async function writeCheckpoint(file: string, header: Record<string, unknown>, arrays: CheckpointArray[]): Promise<void> {
  const layout: { name: string; offset: number; length: number }[] = [];
  let offset = 0;
  for (const a of arrays) {
    layout.push({ name: a.name, offset, length: a.data.length });
    offset += a.data.length;
  }
  const headerBytes = Buffer.from(JSON.stringify({ ...header, arrays: layout }), 'utf8');
  // Pad the header so the float section starts 4-byte aligned.
  const pad = (4 - ((12 + headerBytes.length) % 4)) % 4;
  const out = Buffer.alloc(12 + headerBytes.length + pad + offset * 4);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(headerBytes.length + pad, 8);
  headerBytes.copy(out, 12);
  out.fill(0x20, 12 + headerBytes.length, 12 + headerBytes.length + pad);
  const base = 12 + headerBytes.length + pad;
  for (let k = 0; k < arrays.length; k++) {
    const a = arrays[k]!;
    Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).copy(out, base + layout[k]!.offset * 4);
  }
  await writeFileAtomic(file, out);
}

export interface LoadedCheckpoint {
  header: Record<string, unknown>;
  arrays: Map<string, Float32Array>;
}

/** Reads a checkpoint; a damaged or foreign file gives a ModelDirError naming it. */
export function readCheckpoint(file: string): LoadedCheckpoint {
  const buf = fs.readFileSync(file);
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) throw new ModelDirError('not a training checkpoint (bad magic)', { file });
  const headerLength = buf.readUInt32LE(8);
  if (12 + headerLength > buf.length) throw new ModelDirError('truncated checkpoint header', { file });
  let header: Record<string, unknown> & { arrays?: { name: string; offset: number; length: number }[] };
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + headerLength));
  } catch (error) {
    throw new ModelDirError('checkpoint header is not valid JSON', { file, cause: error });
  }
  const base = 12 + headerLength;
  const arrays = new Map<string, Float32Array>();
  for (const a of header.arrays ?? []) {
    const end = base + (a.offset + a.length) * 4;
    if (end > buf.length) throw new ModelDirError(`truncated checkpoint: array ${a.name} ends at byte ${end}, file has ${buf.length}`, { file });
    const copy = new Uint8Array(a.length * 4);
    buf.copy(copy, 0, base + a.offset * 4, end);
    arrays.set(a.name, new Float32Array(copy.buffer));
  }
  return { header, arrays };
}
