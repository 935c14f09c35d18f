import type { BackgroundStyle, VideoStyle } from './design';
import { seededRandom } from '../runtime/random';

/** Seeded randomness for the sample: mulberry32 seeded by a string hash, so each video's draw is independent
 * of generation order (videos are generated in parallel). */
export function hashSeed(text: string): number {
  let h = 2166136261 >>> 0; // FNV-1a
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

/** The project's mulberry32 (src/runtime/random), under the name the generator uses. */
export const rng: (seed: number) => () => number = seededRandom;

function hsv(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][((i % 6) + 6) % 6]!;
  return [Math.round(r! * 255), Math.round(g! * 255), Math.round(b! * 255)];
}

/** Skin tones from light to dark (RGB), jittered per video. */
const SKIN: [number, number, number][] = [
  [241, 194, 167], [224, 172, 138], [198, 134, 98], [161, 102, 68], [120, 76, 50], [88, 56, 38],
];

/**
 * How much nuisance varies, 0 (every video alike but for the start offset) .. 0.5 (the default) .. 1 ("moderate") .. 1.5.
 * See data/sample/README.md for the trade-off.
 */
export interface StyleOptions {
  nuisance: number;
  minWidth: number;
  maxWidth: number;
  minSeconds: number;
  maxSeconds: number;
  fps: number;
}

export function drawStyle(rand: () => number, options: StyleOptions): VideoStyle {
  const k = options.nuisance;
  const between = (lo: number, hi: number) => lo + (hi - lo) * rand();
  /** A value around `mid` spread by +-`spread` scaled by the nuisance level. */
  const around = (mid: number, spread: number) => mid + spread * k * (2 * rand() - 1);
  const even = (x: number) => 2 * Math.round(x / 2);

  const width = even(between(options.minWidth, options.maxWidth));
  const height = even(width * 0.75);
  const frames = Math.round(between(options.minSeconds, options.maxSeconds) * options.fps);

  const skin = SKIN[Math.floor(rand() * SKIN.length)]!;
  const tone = around(1, 0.08);
  const fill: [number, number, number] = [skin[0] * tone, skin[1] * tone, skin[2] * tone].map((c) => Math.min(255, Math.max(0, c))) as [number, number, number];
  const outline: [number, number, number] = [fill[0] * 0.45, fill[1] * 0.42, fill[2] * 0.4];

  // Backgrounds: a muted gradient (a wall), a torso (the signer's shirt) and a few soft shapes (furniture).
  const hue = rand();
  const background: BackgroundStyle = {
    top: hsv(hue, between(0.05, 0.05 + 0.35 * k), between(0.55, 0.95)),
    bottom: hsv(hue + around(0, 0.15), between(0.05, 0.05 + 0.35 * k), between(0.35, 0.85)),
    gradientAngle: around(Math.PI / 2, 0.6),
    torso: { colour: hsv(rand(), between(0.1, 0.2 + 0.5 * k), between(0.15, 0.75)), x: around(0.5, 0.12), width: around(0.55, 0.12), top: around(0.72, 0.08) },
    blobs: Array.from({ length: Math.round(1 + 2 * k * rand()) }, () => ({
      x: rand(),
      y: between(0, 0.6),
      rx: between(0.05, 0.2),
      ry: between(0.05, 0.2),
      colour: hsv(rand(), between(0.1, 0.5), between(0.3, 0.9)),
      alpha: between(0.2, 0.2 + 0.4 * k),
    })),
  };

  return {
    width,
    height,
    frames,
    period: around(1.2, 0.2),
    turnSpeed: around(180, 40),
    phase: rand(),
    palmPx: height * around(0.2, 0.035),
    centreX: around(0.5, 0.12),
    centreY: around(0.56, 0.06),
    driftPx: height * 0.02 * k,
    driftPhase: rand(),
    tilt: around(0, 0.3),
    colours: { fill, outline },
    background,
  };
}

/** Renders the static background once per video (RGB, row-major). */
export function renderBackground(style: VideoStyle): Uint8Array {
  const { width: w, height: h, background: bg } = style;
  const out = new Uint8Array(w * h * 3);
  const gx = Math.cos(bg.gradientAngle);
  const gy = Math.sin(bg.gradientAngle);
  const torsoX0 = (bg.torso.x - bg.torso.width / 2) * w;
  const torsoX1 = (bg.torso.x + bg.torso.width / 2) * w;
  const torsoY0 = bg.torso.top * h;
  const corner = 0.08 * w;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = Math.min(1, Math.max(0, 0.5 + ((x / w - 0.5) * gx + (y / h - 0.5) * gy)));
      let r = bg.top[0] + (bg.bottom[0] - bg.top[0]) * u;
      let g = bg.top[1] + (bg.bottom[1] - bg.top[1]) * u;
      let b = bg.top[2] + (bg.bottom[2] - bg.top[2]) * u;
      for (const blob of bg.blobs) {
        const ex = (x / w - blob.x) / blob.rx;
        const ey = (y / h - blob.y) / blob.ry;
        const d = ex * ex + ey * ey;
        if (d < 1) {
          const a = blob.alpha * (1 - d);
          r += (blob.colour[0] - r) * a;
          g += (blob.colour[1] - g) * a;
          b += (blob.colour[2] - b) * a;
        }
      }
      // Torso: a rounded-top block from torsoY0 down, antialiased by a one-pixel ramp.
      const qx = Math.max(torsoX0 + corner - x, 0, x - (torsoX1 - corner));
      const qy = Math.max(torsoY0 + corner - y, 0);
      const dist = Math.sqrt(qx * qx + qy * qy) - corner;
      const inside = Math.min(1, Math.max(0, 0.5 - dist));
      if (inside > 0) {
        r += (bg.torso.colour[0] - r) * inside;
        g += (bg.torso.colour[1] - g) * inside;
        b += (bg.torso.colour[2] - b) * inside;
      }
      const o = (y * w + x) * 3;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  }
  return out;
}
