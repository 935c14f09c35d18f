import * as path from 'node:path';
import * as fs from 'node:fs';
import { ffmpegBinaries, ffmpegVersion } from './ffmpeg';

/** Versions of everything the pipeline's results depend on, for notebooks, logs and run folders. */
const PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node-gpu', 'sharp', 'fluent-ffmpeg', 'vega', 'vega-lite', 'danfojs-node', 'tslab'];

function packageVersion(name: string): string {
  try {
    const pkgJson = require.resolve(`${name}/package.json`, { paths: [path.resolve(__dirname, '..', '..')] });
    return (JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export interface Versions {
  node: string;
  platform: string;
  packages: Record<string, string>;
  ffmpeg: { path: string; source: string; version: string };
}

export function versions(): Versions {
  const bins = ffmpegBinaries();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)])),
    ffmpeg: { path: bins.ffmpeg, source: bins.source, version: ffmpegVersion() },
  };
}
