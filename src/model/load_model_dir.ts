import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { directoryLoader } from '../backbone/model_dir';
import { ModelDirError } from '../errors';
import { MODEL_INFO_FILE, parseModelInfo } from './model_info';
import { checkRecognizer, type Recognizer } from './recognize';

/** Node side of a model directory: reads wlasl-model.json, the head and the backbone from disk and checks they fit. */
export async function loadRecognizerFromDirectory(modelDir: string): Promise<Recognizer> {
  const file = path.join(modelDir, MODEL_INFO_FILE);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ModelDirError(`cannot read the model description (${reason}); is this a trained model directory?`, { file, cause: error });
  }
  const info = parseModelInfo(json, file);
  const head = await tf.loadLayersModel(directoryLoader(modelDir));
  const backbone = await tf.loadLayersModel(directoryLoader(path.join(modelDir, info.backbone.dir)));
  const recognizer = { backbone, head, info };
  checkRecognizer(recognizer, modelDir);
  return recognizer;
}
