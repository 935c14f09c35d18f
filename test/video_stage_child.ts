/**
 * Runs the frame stage in a child process for the kill-safety test (test/video_stage.test.ts), which kills it
 * with SIGKILL mid-run. Usage: node --import tsx test/video_stage_child.ts JOBS.json OUT_ROOT CONFIG.json
 */
import * as fs from 'node:fs';
import type { FramesConfig } from '../src/config';
import type { VideoJob } from '../src/metadata/types';
import { runFrameStage } from '../src/video/stage';

async function main(): Promise<void> {
  const [jobsFile, outRoot, configFile] = process.argv.slice(2);
  const jobs = JSON.parse(fs.readFileSync(jobsFile, 'utf8')) as VideoJob[];
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as FramesConfig;
  const summary = await runFrameStage(jobs, config, outRoot, { progress: 'none' });
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((error) => {
  process.stderr.write(String(error) + '\n');
  process.exit(1);
});
