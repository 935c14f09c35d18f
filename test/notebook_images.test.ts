import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import sharp from 'sharp';
import { frameWithCrop } from '../src/notebook/images';
import { probeVideo } from '../src/video/probe';
import { REPO_ROOT } from './helpers';

test('frameWithCrop: a source frame larger than the output width, scaled down, with the crop box drawn where the crop is', async () => {
  const video = path.join(REPO_ROOT, 'data', 'sample', 'videos', '90000.mp4');
  const info = await probeVideo(video);
  const width = 240;
  assert.ok(info.width > width, `the sample clip (${info.width} px) is wider than the output`);
  const crop = { x: 100, y: 80, width: 150, height: 160 };
  const jpeg = await frameWithCrop(video, 5, crop, { width, label: 'test' });
  const meta = await sharp(jpeg).metadata();
  assert.equal(meta.format, 'jpeg');
  assert.equal(meta.width, width);
  assert.equal(meta.height, Math.round((info.height * width) / info.width));

  // Along the box's left edge (scaled) the reddest pixel within 2 px is clearly red; the box's centre is not.
  const scale = width / info.width;
  const { data, info: raw } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const redness = (x: number, y: number): number => {
    const at = (y * raw.width + x) * raw.channels;
    return data[at]! - (data[at + 1]! + data[at + 2]!) / 2;
  };
  const edgeX = Math.round((crop.x + 1) * scale);
  for (const fy of [0.3, 0.5, 0.7]) {
    const y = Math.round((crop.y + fy * crop.height) * scale);
    const best = Math.max(...[-2, -1, 0, 1, 2].map((dx) => redness(edgeX + dx, y)));
    assert.ok(best > 60, `box edge at y=${y}: redness ${best}`);
  }
  const inside = redness(Math.round((crop.x + crop.width / 2) * scale), Math.round((crop.y + crop.height / 2) * scale));
  assert.ok(inside < 60, `inside the box: redness ${inside}`);
});
