/**
 * Frame rate and frame count of an MP4/MOV video track, read from its boxes (mdhd timescale, stts sample
 * durations). Browsers do not expose a video's frame rate, and Node's window counts frames, so the page needs
 * both to seek to "frame k". Returns null for anything it cannot read (fragmented MP4, WebM, ...): the caller
 * then measures the rate while playing.
 */
export interface TrackTiming {
  fps: number;
  frameCount: number;
}

interface Box {
  type: string;
  start: number; // payload start
  end: number;
}

function boxes(view: DataView, start: number, end: number): Box[] {
  const out: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    let size = view.getUint32(at);
    const type = String.fromCharCode(view.getUint8(at + 4), view.getUint8(at + 5), view.getUint8(at + 6), view.getUint8(at + 7));
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) break;
      size = Number(view.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end) break; // damaged or truncated: stop rather than read garbage
    out.push({ type, start: at + header, end: at + size });
    at += size;
  }
  return out;
}

function child(view: DataView, parent: Box, type: string): Box | undefined {
  return boxes(view, parent.start, parent.end).find((b) => b.type === type);
}

export function readTrackTiming(buffer: ArrayBuffer): TrackTiming | null {
  try {
    const view = new DataView(buffer);
    const moov = boxes(view, 0, view.byteLength).find((b) => b.type === 'moov');
    if (!moov) return null;
    for (const trak of boxes(view, moov.start, moov.end).filter((b) => b.type === 'trak')) {
      const mdia = child(view, trak, 'mdia');
      const hdlr = mdia && child(view, mdia, 'hdlr');
      if (!mdia || !hdlr) continue;
      const handler = String.fromCharCode(...[0, 1, 2, 3].map((i) => view.getUint8(hdlr.start + 8 + i)));
      if (handler !== 'vide') continue;
      const mdhd = child(view, mdia, 'mdhd');
      const stbl = child(view, mdia, 'minf') && child(view, child(view, mdia, 'minf')!, 'stbl');
      const stts = stbl && child(view, stbl, 'stts');
      if (!mdhd || !stts) return null;
      const version = view.getUint8(mdhd.start);
      const timescale = view.getUint32(mdhd.start + (version === 1 ? 20 : 12));
      const entries = view.getUint32(stts.start + 4);
      let frameCount = 0;
      const deltaCounts = new Map<number, number>();
      for (let i = 0; i < entries; i++) {
        const count = view.getUint32(stts.start + 8 + i * 8);
        const delta = view.getUint32(stts.start + 12 + i * 8);
        frameCount += count;
        deltaCounts.set(delta, (deltaCounts.get(delta) ?? 0) + count);
      }
      // The most common frame duration: a constant-rate file's last sample often has an odd duration.
      const delta = [...deltaCounts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
      if (!timescale || !delta || frameCount === 0) return null;
      return { fps: timescale / delta, frameCount };
    }
    return null;
  } catch {
    return null;
  }
}
