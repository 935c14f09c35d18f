/**
 * Runs the landmark stage in a child process for the kill-and-resume test (test/landmarks.test.ts), which
 * kills it with SIGKILL mid-run. Usage: node --import tsx test/landmarks_child.ts ARGS.json
 * (ARGS: { jobs, cacheRoot, frames, params, workers }).
 */
import * as fs from 'node:fs';
import { buildLandmarkCache, type BuildLandmarkCacheOptions } from '../src/landmarks/stage';

async function main(): Promise<void> {
  const args = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as BuildLandmarkCacheOptions;
  const report = await buildLandmarkCache({ ...args, progress: 'none' });
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((error) => {
  process.stderr.write(String(error) + '\n');
  process.exit(1);
});
