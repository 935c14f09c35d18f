import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectCalibrationFrames, type DecodedFrames } from '../src/features/build';
import { VideoFailure } from '../src/video/types';

const SIZE = 224;
const FRAME = SIZE * SIZE * 3;

/** Frames whose every byte says which video and frame they are, so the chosen frames can be read back. */
function framesOf(videoIndex: number, count = 6): DecodedFrames {
  const frames = new Uint8Array(count * FRAME);
  for (let f = 0; f < count; f++) frames.fill(videoIndex * 16 + f, f * FRAME, (f + 1) * FRAME);
  return { frames, count, size: SIZE } as DecodedFrames;
}

const jobs = Array.from({ length: 6 }, (_, i) => ({ videoId: `v${i}`, index: i }));

function firstBytes(out: Uint8Array): number[] {
  return Array.from({ length: out.length / FRAME }, (_, k) => out[k * FRAME]!);
}

test('calibration frames: a transient failure is retried, so the frames (and the weights) do not change', async () => {
  const clean = await collectCalibrationFrames(jobs, async (j) => framesOf(j.index), { videos: 3, framesPerVideo: 2, seed: 5 });
  const failedOnce = new Set<string>();
  const flaky = await collectCalibrationFrames(
    jobs,
    async (j) => {
      if (!failedOnce.has(j.videoId)) {
        failedOnce.add(j.videoId);
        throw new Error('spawn ffmpeg EAGAIN');
      }
      return framesOf(j.index);
    },
    { videos: 3, framesPerVideo: 2, seed: 5 },
  );
  assert.deepEqual(firstBytes(flaky), firstBytes(clean));
  assert.equal(flaky.length, 6 * FRAME);
});

test('calibration frames: a bad file is skipped, a failure that persists is thrown', async () => {
  const clean = await collectCalibrationFrames(jobs, async (j) => framesOf(j.index), { videos: 3, framesPerVideo: 2, seed: 5 });
  const firstChosen = Math.floor(firstBytes(clean)[0]! / 16);
  const skipping = await collectCalibrationFrames(
    jobs,
    async (j) => {
      if (j.index === firstChosen) throw new VideoFailure('truncated', 'truncated or damaged', { file: `${j.videoId}.mp4` });
      return framesOf(j.index);
    },
    { videos: 3, framesPerVideo: 2, seed: 5 },
  );
  assert.ok(!firstBytes(skipping).some((b) => Math.floor(b / 16) === firstChosen), 'the bad video is not used');
  assert.equal(skipping.length, 6 * FRAME);
  await assert.rejects(
    collectCalibrationFrames(jobs, async () => {
      throw new Error('spawn ffmpeg EAGAIN');
    }),
    /EAGAIN/,
  );
});
