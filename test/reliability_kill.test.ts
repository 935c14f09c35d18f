import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTempDir } from './helpers';
import { runKillTrials } from '../scripts/kill_trials';

/**
 * The short kill-and-resume trial (the long one: npx tsx scripts/kill_trials.ts --trials 10): one SIGKILL in
 * each of prepare (start-up, organising, frames), feature caching and training on 8 sample videos, then a rerun;
 * every frame, feature file, metric and weight must equal the uninterrupted run's. Seed 21 places the kills at
 * 43%, 45% and 28% of each phase as the reference run timed it, so a trial finishes before its kill only if it
 * runs about twice as fast as the reference did (seed 3 put the prepare kill at 72%).
 */
test('SIGKILL during prepare, feature caching and training, then resume: outputs equal an uninterrupted run', { timeout: 240_000 }, async () => {
  const lines: string[] = [];
  const report = await runKillTrials({ workDir: makeTempDir('wlasl-kill-'), trials: 3, seed: 21, perSplit: { train: 2, val: 1, test: 1 }, glosses: 2, log: (l) => lines.push(l) });
  assert.deepEqual(report.trials.map((t) => t.phase), ['prepare', 'features', 'training']);
  for (const t of report.trials) assert.deepEqual(t.mismatches, [], `trial ${t.trial} (${t.phase}):\n${lines.join('\n')}`);
  assert.ok(report.trials.filter((t) => t.killed).length >= 2, `most trials must really be killed:\n${lines.join('\n')}`);
  assert.equal(report.mismatches, 0);
});
