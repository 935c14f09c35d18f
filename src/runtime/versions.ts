import * as path from 'node:path';
import * as fs from 'node:fs';
import { ffmpegBinaries, ffmpegVersion } from './ffmpeg';

/** Versions of everything the pipeline's results depend on, for notebooks, logs and run folders. */
const PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node-gpu', 'sharp', 'fluent-ffmpeg', 'vega', 'vega-lite', 'danfojs-node', 'tslab'];

/**
 * The installed version of a package, read from its package.json. Not through require.resolve('<name>/package.json'):
 * packages with an "exports" map that omits it (sharp 0.35) refuse that, so the node_modules folders a require
 * from the project root would search are looked into directly.
 */
function packageVersion(name: string): string {
  const lookup = require.resolve.paths(name) ?? [];
  for (const dir of [path.resolve(__dirname, '..', '..', 'node_modules'), ...lookup]) {
    const pkgJson = path.join(dir, name, 'package.json');
    try {
      const pkg = JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { name?: string; version?: string };
      if (pkg.version) return pkg.version;
    } catch {
      // not in this folder: try the next one
    }
  }
  return 'not installed';
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
