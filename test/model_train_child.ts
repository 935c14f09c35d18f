// Child process for the resume test: trains with checkpoints and prints one line per epoch, so the parent can
// SIGKILL it mid-run; with --resume it continues and prints the final result as JSON. Mode 'paced' pauses after
// each epoch so that the parent's kill lands before the run can finish, however loaded the machine is.
import { initBackend } from '../src/runtime/backend';
import { createHead, fit } from '../src/model/train';
import { toySource } from './model_train_fixture';
import { TRAIN_TEST_CONFIG, MODEL_TEST_CONFIG } from './model_train_settings';

async function main(): Promise<void> {
  await initBackend();
  const [dir, mode] = process.argv.slice(2);
  const train = toySource({ videosPerClass: 6, classes: 3, steps: 4, dim: 16, windows: 3, seed: 1 });
  const val = toySource({ videosPerClass: 3, classes: 3, steps: 4, dim: 16, windows: 3, seed: 2 });
  const head = await createHead(train, MODEL_TEST_CONFIG, 7);
  const result = await fit(head, train, val, TRAIN_TEST_CONFIG, {
    checkpointDir: dir,
    resume: mode === 'resume',
    progress: 'none',
    onEpoch: async (r) => {
      process.stdout.write(`EPOCH ${r.epoch}\n`);
      if (mode === 'paced') await new Promise((resolve) => setTimeout(resolve, 500));
    },
  });
  const probs = head.predictProbs((await val.batches(1000, { shuffle: false, seed: 0 })[Symbol.asyncIterator]().next()).value!.x);
  process.stdout.write(`RESULT ${JSON.stringify({ history: result.history.map(({ seconds: _s, ...r }) => r), bestEpoch: result.bestEpoch, resumed: result.resumed, probs: Array.from(probs) })}\n`);
}
main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error) + '\n');
  process.exit(1);
});
