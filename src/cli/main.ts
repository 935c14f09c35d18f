/**
 * The command line: `wlasl <command>`; `npm start` runs the whole pipeline on the embedded sample.
 */
import { Command } from 'commander';
import { describeError } from '../errors';

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('wlasl')
    .description('Isolated ASL sign recognition on WLASL: CNN (frozen MobileNetV2) + LSTM, in TensorFlow.js')
    .showHelpAfterError();

  program
    .command('run')
    .description('run the whole pipeline (organise, frames, features, train, evaluate) on a dataset folder')
    .option('--sample', 'use the embedded sample in data/sample (default when no --data is given)')
    .option('--data <dir>', 'a WLASL folder: WLASL_v0.3.json and videos/<video_id>.mp4')
    .action(async () => {
      const { initBackend } = await import('../runtime/backend');
      const backend = await initBackend();
      console.log(backend.summary);
      console.log('The pipeline stages are being built (issues 3-6); this command will run them end to end.');
    });

  await program.parseAsync(argv);
}

main(process.argv).catch((error: unknown) => {
  console.error(`error: ${describeError(error)}`);
  process.exitCode = 1;
});
