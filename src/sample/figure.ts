/**
 * A hand-like figure drawn with signed distance functions: a palm (rounded box), four fingers and a thumb
 * (capsules), each with an outline so finger shapes stay visible to a CNN after cropping and resizing.
 * Local units: palm height = 1, y grows downwards (image convention), fingers point up at extension 1.
 */

/** Pose of one frame: where the figure is and how open each finger is. */
export interface FigurePose {
  /** Centre of the palm in pixels. */
  cx: number;
  cy: number;
  /** Pixels per local unit (the palm's height in pixels). */
  scale: number;
  /** Rotation in radians, clockwise on screen. */
  angle: number;
  /** Extension 0 (curled) .. 1 (straight) of index, middle, ring, little, thumb. */
  extension: [number, number, number, number, number];
}

export interface Capsule {
  ax: number;
  ay: number;
  bx: number;
  by: number;
  r: number;
}

const PALM_HALF_W = 0.42;
const PALM_HALF_H = 0.5;
const PALM_CORNER = 0.2;

interface FingerSpec {
  baseX: number;
  baseY: number;
  /** Angle from straight up at full extension, radians (negative leans left). */
  angle: number;
  length: number;
  radius: number;
}

const DEG = Math.PI / 180;
const FINGERS: FingerSpec[] = [
  { baseX: -0.29, baseY: -0.4, angle: -9 * DEG, length: 0.78, radius: 0.085 },
  { baseX: -0.095, baseY: -0.44, angle: -2 * DEG, length: 0.88, radius: 0.088 },
  { baseX: 0.095, baseY: -0.42, angle: 5 * DEG, length: 0.8, radius: 0.085 },
  { baseX: 0.28, baseY: -0.36, angle: 13 * DEG, length: 0.62, radius: 0.075 },
];

/** The five capsules of a pose, in local units (before rotation, scale and translation). */
export function fingerCapsules(extension: FigurePose['extension']): Capsule[] {
  const out: Capsule[] = FINGERS.map((f, i) => {
    const e = extension[i]!;
    // A curled finger is a knuckle stub; an open hand also fans its fingers out a little.
    const len = f.length * (0.2 + 0.8 * e);
    const a = f.angle * (0.5 + 0.7 * e);
    return { ax: f.baseX, ay: f.baseY, bx: f.baseX + Math.sin(a) * len, by: f.baseY - Math.cos(a) * len, r: f.radius };
  });
  const t = extension[4];
  const thumbAngle = (-12 - 50 * t) * DEG;
  const thumbLen = 0.32 + 0.34 * t;
  const tx = -0.36;
  const ty = 0.1;
  out.push({ ax: tx, ay: ty, bx: tx + Math.sin(thumbAngle) * thumbLen, by: ty - Math.cos(thumbAngle) * thumbLen, r: 0.1 });
  return out;
}

function sdRoundBox(x: number, y: number): number {
  const qx = Math.abs(x) - (PALM_HALF_W - PALM_CORNER);
  const qy = Math.abs(y) - (PALM_HALF_H - PALM_CORNER);
  const ox = Math.max(qx, 0);
  const oy = Math.max(qy, 0);
  return Math.sqrt(ox * ox + oy * oy) + Math.min(Math.max(qx, qy), 0) - PALM_CORNER;
}

function sdCapsule(x: number, y: number, c: Capsule): number {
  const pax = x - c.ax;
  const pay = y - c.ay;
  const bax = c.bx - c.ax;
  const bay = c.by - c.ay;
  const bb = bax * bax + bay * bay;
  const h = bb > 0 ? Math.min(1, Math.max(0, (pax * bax + pay * bay) / bb)) : 0;
  const dx = pax - bax * h;
  const dy = pay - bay * h;
  return Math.sqrt(dx * dx + dy * dy) - c.r;
}

/** Screen-space bounding box [x0, y0, x1, y1] of a pose (conservative: capsule ends plus radius). */
export function poseBounds(pose: FigurePose): [number, number, number, number] {
  const cos = Math.cos(pose.angle);
  const sin = Math.sin(pose.angle);
  const pts: [number, number, number][] = [
    [-PALM_HALF_W, -PALM_HALF_H, 0],
    [PALM_HALF_W, -PALM_HALF_H, 0],
    [-PALM_HALF_W, PALM_HALF_H, 0],
    [PALM_HALF_W, PALM_HALF_H, 0],
  ];
  for (const c of fingerCapsules(pose.extension)) {
    pts.push([c.ax, c.ay, c.r], [c.bx, c.by, c.r]);
  }
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [lx, ly, r] of pts) {
    const sx = pose.cx + (lx * cos - ly * sin) * pose.scale;
    const sy = pose.cy + (lx * sin + ly * cos) * pose.scale;
    const rr = (r + 0.05) * pose.scale;
    x0 = Math.min(x0, sx - rr);
    y0 = Math.min(y0, sy - rr);
    x1 = Math.max(x1, sx + rr);
    y1 = Math.max(y1, sy + rr);
  }
  return [x0, y0, x1, y1];
}

export interface FigureColours {
  fill: [number, number, number];
  outline: [number, number, number];
}

/**
 * Draws the figure over an RGB frame in place (painter's order: palm, then fingers, then thumb, each with
 * its outline), antialiased by the distance field. Only the figure's bounding box is visited.
 */
export function drawFigure(frame: Uint8Array, width: number, height: number, pose: FigurePose, colours: FigureColours): void {
  const capsules = fingerCapsules(pose.extension);
  const [bx0, by0, bx1, by1] = poseBounds(pose);
  const xStart = Math.max(0, Math.floor(bx0));
  const yStart = Math.max(0, Math.floor(by0));
  const xEnd = Math.min(width, Math.ceil(bx1) + 1);
  const yEnd = Math.min(height, Math.ceil(by1) + 1);
  const cos = Math.cos(pose.angle);
  const sin = Math.sin(pose.angle);
  const inv = 1 / pose.scale;
  const outlinePx = Math.max(1.3, 0.045 * pose.scale);
  const [fr, fg, fb] = colours.fill;
  const [or, og, ob] = colours.outline;
  const shapes = capsules.length + 1;
  for (let y = yStart; y < yEnd; y++) {
    for (let x = xStart; x < xEnd; x++) {
      const dx = (x + 0.5 - pose.cx) * inv;
      const dy = (y + 0.5 - pose.cy) * inv;
      const lx = dx * cos + dy * sin;
      const ly = -dx * sin + dy * cos;
      const o = (y * width + x) * 3;
      let r = frame[o]!;
      let g = frame[o + 1]!;
      let b = frame[o + 2]!;
      for (let s = 0; s < shapes; s++) {
        const dPx = (s === 0 ? sdRoundBox(lx, ly) : sdCapsule(lx, ly, capsules[s - 1]!)) * pose.scale;
        if (dPx >= 0.5) continue;
        const coverage = Math.min(1, 0.5 - dPx);
        // Inside by more than the outline width: fill, lit a little from above; near the edge: outline.
        const edge = Math.min(1, Math.max(0, -dPx - outlinePx + 0.5));
        const light = 1.06 - 0.12 * (ly + 0.5);
        const cr = (or + (fr * light - or) * edge);
        const cg = (og + (fg * light - og) * edge);
        const cb = (ob + (fb * light - ob) * edge);
        r += (cr - r) * coverage;
        g += (cg - g) * coverage;
        b += (cb - b) * coverage;
      }
      frame[o] = r < 0 ? 0 : r > 255 ? 255 : r;
      frame[o + 1] = g < 0 ? 0 : g > 255 ? 255 : g;
      frame[o + 2] = b < 0 ? 0 : b > 255 ? 255 : b;
    }
  }
}
