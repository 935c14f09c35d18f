/**
 * MP4/MOV box reading shared by Node (the header probe of the frame stage) and the browser page (frame rate
 * and count for seeking). Platform-free: DataView only, no Node modules, so Vite can bundle it for web/.
 */
import type { VideoInfo } from './types';

export interface Box {
  type: string;
  /** Offset of the payload (after the size/type header). */
  start: number;
  end: number;
}

function fourcc(view: DataView, at: number): string {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

/**
 * The boxes laid end to end in [start, end). Stops at the first damaged or cut-off box rather than read
 * garbage; `complete` says whether the boxes filled the range exactly (the header probe trusts nothing else).
 */
export function boxList(view: DataView, start: number, end: number): { boxes: Box[]; complete: boolean } {
  const out: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    let size = view.getUint32(at);
    const type = fourcc(view, at + 4);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) break;
      size = Number(view.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end) break;
    out.push({ type, start: at + header, end: at + size });
    at += size;
  }
  return { boxes: out, complete: at === end };
}

export function boxes(view: DataView, start: number, end: number): Box[] {
  return boxList(view, start, end).boxes;
}

export function child(view: DataView, parent: Box, type: string): Box | undefined {
  return boxes(view, parent.start, parent.end).find((b) => b.type === type);
}

export interface TrackTiming {
  fps: number;
  frameCount: number;
}

/**
 * Frame rate and frame count of the first video track, from mdhd (timescale) and stts (sample durations).
 * Returns null for anything it cannot read (fragmented MP4, WebM, ...): the browser caller then measures the
 * rate while playing.
 */
export function readTrackTiming(buffer: ArrayBuffer): TrackTiming | null {
  try {
    const view = new DataView(buffer);
    const moov = boxes(view, 0, view.byteLength).find((b) => b.type === 'moov');
    if (!moov) return null;
    for (const trak of boxes(view, moov.start, moov.end).filter((b) => b.type === 'trak')) {
      const mdia = child(view, trak, 'mdia');
      const hdlr = mdia && child(view, mdia, 'hdlr');
      if (!mdia || !hdlr) continue;
      if (fourcc(view, hdlr.start + 8) !== 'vide') continue;
      const mdhd = child(view, mdia, 'mdhd');
      const minf = child(view, mdia, 'minf');
      const stbl = minf && child(view, minf, 'stbl');
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

/** What the header probe reads from a moov box: exactly ffprobe's VideoInfo. */
export type Mp4VideoHeader = VideoInfo;

const ONE = 0x10000; // 1.0 in the 16.16 fixed point of display matrices

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Whether FFmpeg can only make a non-video stream of this track. A 'soun' handler makes it audio whatever the
 * sample entry; otherwise FFmpeg goes by the sample entry's fourcc, and 'mp4s' (ISMA object/scene
 * descriptions, common in WLASL clips) and 'rtp ' (hint tracks) are data. Anything else might be video.
 */
function surelyNotVideo(view: DataView, handler: string, mdia: Map<string, Box[]>): boolean {
  if (handler === 'soun') return true;
  const minf = only(mdia, 'minf');
  const stbl = minf && only(strictChildren(view, minf), 'stbl');
  const stsd = stbl && only(strictChildren(view, stbl), 'stsd');
  if (!stsd || stsd.end - stsd.start < 8) return false;
  const entries = boxList(view, stsd.start + 8, stsd.end);
  return entries.complete && entries.boxes.length > 0 && entries.boxes.every((e) => e.type === 'mp4s' || e.type === 'rtp ');
}

/**
 * Reads what probeVideo reports from a moov box's payload (view covers exactly the moov box), answering
 * exactly as ffprobe (FFmpeg's mov demuxer) would, or null whenever that is not certain: more or fewer than
 * one video track, other track kinds, fragments, cover art (ffprobe lists it as a video stream), a codec
 * other than H.264, several sample descriptions, a display matrix that is not a plain quarter turn, edit lists
 * that could shorten the stream, stts quirks FFmpeg corrects, or any box that does not parse cleanly.
 */
export function readMp4VideoHeader(view: DataView, moov: Box): Mp4VideoHeader | null {
  try {
    return readHeader(view, moov);
  } catch {
    return null; // a read past a box's end (RangeError): damaged, so let ffprobe judge it
  }
}

function strictChildren(view: DataView, parent: Box): Map<string, Box[]> | null {
  const { boxes: list, complete } = boxList(view, parent.start, parent.end);
  if (!complete) return null;
  const byType = new Map<string, Box[]>();
  for (const b of list) byType.set(b.type, [...(byType.get(b.type) ?? []), b]);
  return byType;
}

function only(map: Map<string, Box[]> | null, type: string): Box | null {
  const list = map?.get(type);
  return list && list.length === 1 ? list[0] : null;
}

function readHeader(view: DataView, moov: Box): Mp4VideoHeader | null {
  // FFmpeg turns an 'ilst/covr' picture into an extra video stream; its place among the streams depends on
  // where udta sits, so any file carrying one goes to ffprobe. A byte search is cruder than a walk and safe.
  for (let at = moov.start; at + 4 <= moov.end; at++) {
    if (view.getUint8(at) === 0x63 && fourcc(view, at) === 'covr') return null;
  }
  const top = strictChildren(view, moov);
  if (!top || top.has('mvex') || top.has('cmov')) return null;
  const mvhd = only(top, 'mvhd');
  if (!mvhd) return null;
  const mvhdVersion = view.getUint8(mvhd.start);
  if (mvhdVersion > 1) return null;
  const movieTimescale = view.getUint32(mvhd.start + (mvhdVersion === 1 ? 20 : 12));
  // FFmpeg multiplies each track's matrix by the movie's; only an identity movie matrix keeps this simple.
  const mvhdMatrix = mvhd.start + (mvhdVersion === 1 ? 48 : 36);
  if (mvhdMatrix + 36 > mvhd.end) return null;
  const identity = [ONE, 0, 0, 0, ONE, 0, 0, 0, 0x40000000];
  for (let i = 0; i < 9; i++) if (view.getInt32(mvhdMatrix + 4 * i) !== identity[i]) return null;
  if (!movieTimescale) return null;

  let video: { trak: Box; mdia: Map<string, Box[]> } | null = null;
  for (const trak of top.get('trak') ?? []) {
    const trakKids = strictChildren(view, trak);
    const mdia = only(trakKids, 'mdia');
    if (!mdia) return null;
    const mdiaKids = strictChildren(view, mdia);
    const hdlr = only(mdiaKids, 'hdlr');
    if (!hdlr || !mdiaKids || hdlr.end - hdlr.start < 12) return null;
    const handler = fourcc(view, hdlr.start + 8);
    if (handler === 'vide') {
      if (video) return null;
      video = { trak, mdia: mdiaKids };
    } else if (!surelyNotVideo(view, handler, mdiaKids)) {
      return null;
    }
  }
  if (!video) return null;
  const trakKids = strictChildren(view, video.trak);
  const tkhd = only(trakKids, 'tkhd');
  const mdhd = only(video.mdia, 'mdhd');
  const minf = only(video.mdia, 'minf');
  const stbl = minf && only(strictChildren(view, minf), 'stbl');
  const stblKids = stbl && strictChildren(view, stbl);
  if (!trakKids || !tkhd || !mdhd || !stblKids) return null;
  const stsd = only(stblKids, 'stsd');
  const stts = only(stblKids, 'stts');
  const stsz = only(stblKids, 'stsz');
  if (!stsd || !stts || !stsz || stblKids.has('stz2')) return null;
  // Fixed-size fields read below must lie inside their own box, not run into the next one.
  if (mdhd.end - mdhd.start < 20 || stsd.end - stsd.start < 8 || stts.end - stts.start < 8 || stsz.end - stsz.start < 12) return null;

  // tkhd: display matrix and the track's width/height (16.16).
  const tkhdVersion = view.getUint8(tkhd.start);
  if (tkhdVersion > 1) return null;
  const matrixAt = tkhd.start + (tkhdVersion === 1 ? 52 : 40);
  if (matrixAt + 44 > tkhd.end) return null;
  const m = Array.from({ length: 9 }, (_, i) => view.getInt32(matrixAt + 4 * i));
  const [a, b, u, c, d, v, , , w] = m;
  const unit = (x: number) => x === 0 || x === ONE || x === -ONE;
  // A plain rotation by a multiple of 90 degrees (no scaling, shear or mirror); translation does not matter.
  if (u !== 0 || v !== 0 || w !== 0x40000000 || !unit(a) || !unit(b) || Math.abs(a) + Math.abs(b) !== ONE || c !== -b || d !== a) return null;
  // av_display_rotation_get: -atan2(b, a) in degrees; then normalised as probe.ts's rotationOf does.
  const raw = (-Math.atan2(b / ONE, a / ONE) * 180) / Math.PI;
  const rotation = ((Math.round(raw / 90) * 90) % 360 + 360) % 360;
  const trackW = view.getUint32(matrixAt + 36);
  const trackH = view.getUint32(matrixAt + 40);

  // mdhd: the stream's timescale and duration.
  const mdhdVersion = view.getUint8(mdhd.start);
  if (mdhdVersion > 1 || (mdhdVersion === 1 && mdhd.end - mdhd.start < 32)) return null;
  const timescale = view.getUint32(mdhd.start + (mdhdVersion === 1 ? 20 : 12));
  const mdhdDuration = mdhdVersion === 1 ? view.getBigUint64(mdhd.start + 24) : BigInt(view.getUint32(mdhd.start + 16));
  if (!timescale || timescale > 0x7fffffff || mdhdDuration <= 0n || mdhdDuration >= 0xffffffffn) return null;

  // stsd: exactly one H.264 sample description with its avcC.
  if (view.getUint32(stsd.start + 4) !== 1) return null;
  const entries = boxList(view, stsd.start + 8, stsd.end);
  if (!entries.complete || entries.boxes.length !== 1) return null;
  const entry = entries.boxes[0];
  if ((entry.type !== 'avc1' && entry.type !== 'avc3') || entry.end - entry.start < 78) return null;
  const storedW = view.getUint16(entry.start + 24);
  const storedH = view.getUint16(entry.start + 26);
  const entryKids = boxList(view, entry.start + 78, entry.end).boxes;
  if (!entryKids.some((k) => k.type === 'avcC')) return null;
  // ffprobe reports the decoder's size (from the SPS); the sample entry and tkhd normally repeat it. When they
  // disagree (anamorphic, odd muxers) the SPS could say either, so ask ffprobe.
  if (!storedW || !storedH || trackW !== storedW * ONE || trackH !== storedH * ONE) return null;

  // stts: frame count and total duration, as FFmpeg's mov_read_stts sums them.
  const sttsEntries = view.getUint32(stts.start + 4);
  if (sttsEntries === 0 || stts.start + 8 + sttsEntries * 8 > stts.end) return null;
  let frames = 0;
  let sttsDuration = 0n;
  for (let i = 0; i < sttsEntries; i++) {
    const count = view.getUint32(stts.start + 8 + i * 8);
    const delta = view.getUint32(stts.start + 12 + i * 8);
    // FFmpeg reads deltas as signed and clamps negatives, and shortens a long last sample: leave those to it.
    if (delta === 0 || delta > 0x7fffffff) return null;
    if (i > 0 && i === sttsEntries - 1 && count === 1 && frames > 50 && BigInt(delta) * BigInt(frames) > 5n * sttsDuration) return null;
    frames += count;
    sttsDuration += BigInt(count) * BigInt(delta);
  }
  if (frames <= 0 || frames > 0x7fffffff) return null;
  if (view.getUint32(stsz.start + 8) !== frames) return null;

  // ctts version 1 allows negative offsets, which move where FFmpeg starts an edit: not handled here.
  // FFmpeg reads ctts offsets as signed even in version 0, and a negative one shifts every DTS (dts_shift),
  // which moves where an edit starts.
  const ctts = stblKids.get('ctts');
  if (ctts) {
    if (ctts.length !== 1 || view.getUint8(ctts[0].start) !== 0) return null;
    const c = ctts[0];
    if (c.end - c.start < 8) return null;
    const count = view.getUint32(c.start + 4);
    if (c.start + 8 + count * 8 > c.end) return null;
    for (let i = 0; i < count; i++) if (view.getUint32(c.start + 12 + i * 8) > 0x7fffffff) return null;
  }
  // Stream duration before edits: mdhd's, cut to the samples' total (mov_read_stts).
  const durationTs = mdhdDuration < sttsDuration ? mdhdDuration : sttsDuration;

  // Edit list: FFmpeg's mov_fix_index cuts the stream's duration to the edits' total (rescaled to the track's
  // timescale). One plain edit (rate 1, media time >= 0) at least as long as the stream leaves it as it is;
  // anything else (empty edits, several edits, short edits) goes to ffprobe.
  const edts = trakKids.get('edts');
  if (edts) {
    if (edts.length !== 1) return null;
    const edtsKids = strictChildren(view, edts[0]);
    const elst = only(edtsKids, 'elst');
    if (!elst || edtsKids!.size !== 1) return null;
    const elstVersion = view.getUint8(elst.start);
    if (elstVersion > 1 || view.getUint32(elst.start + 4) !== 1) return null;
    const at = elst.start + 8;
    if (at + (elstVersion === 1 ? 20 : 12) > elst.end) return null;
    const segment = elstVersion === 1 ? view.getBigUint64(at) : BigInt(view.getUint32(at));
    const mediaTime = elstVersion === 1 ? view.getBigInt64(at + 8) : BigInt(view.getInt32(at + 4));
    const rate = view.getInt32(at + (elstVersion === 1 ? 16 : 8));
    if (rate !== ONE || mediaTime < 0n) return null;
    if (segment * BigInt(timescale) < durationTs * BigInt(movieTimescale)) return null;
  }

  // ffprobe prints the duration with "%f" of duration x (1 / timescale) in doubles.
  const seconds = Number(durationTs) * (1 / timescale);
  const micro = seconds * 1e6;
  // printf rounds an exact tie to even, toFixed away from zero: a tie is rare and left to ffprobe.
  if (Math.abs(micro - Math.floor(micro) - 0.5) < 1e-6) return null;
  const durationS = Number(seconds.toFixed(6));

  // avg_frame_rate: timescale * frames / duration, reduced (av_reduce, limit INT_MAX), then num / den.
  let num = BigInt(timescale) * BigInt(frames);
  let den = sttsDuration;
  const g = gcd(num, den);
  num /= g;
  den /= g;
  if (num > 0x7fffffffn || den > 0x7fffffffn) return null;
  const fps = Number(num) / Number(den);

  const swap = rotation === 90 || rotation === 270;
  return {
    width: swap ? storedH : storedW,
    height: swap ? storedW : storedH,
    fps,
    frameCount: frames,
    frameCountExact: true,
    codec: 'h264',
    durationS,
    rotation,
  };
}
