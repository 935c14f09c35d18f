import * as path from 'node:path';
import sharp from 'sharp';
import type { FramesConfig } from '../config';
import { VideoError } from '../errors';
import { frameDir, paramsKey, readFinishedManifest } from './stage';
import type { ExtractedFrames } from './types';

/**
 * Loads a finished video's JPEG frames (written by runFrameStage) as raw RGB in the same shape extractFrames
 * returns, so the next stage can take either source. Throws VideoError when the video is not finished.
 */
export async function loadFrameDir(outRoot: string, config: FramesConfig, videoId: string): Promise<ExtractedFrames> {
  const dir = frameDir(outRoot, config, videoId);
  const manifest = await readFinishedManifest(dir, paramsKey(config));
  if (!manifest) throw new VideoError('no finished frames here (run the frame stage first)', { file: dir });
  const size = config.size;
  const frameBytes = size * size * 3;
  const frames = new Uint8Array(manifest.files.length * frameBytes);
  for (let i = 0; i < manifest.files.length; i++) {
    const file = path.join(dir, manifest.files[i].name);
    const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.width !== size || info.height !== size || info.channels !== 3) {
      throw new VideoError(`frame is ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x3`, { file });
    }
    frames.set(data, i * frameBytes);
  }
  return { frames, count: manifest.files.length, size, padded: manifest.padded, sourceFrames: manifest.sourceFrames };
}
