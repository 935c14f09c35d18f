import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { directoryLoader } from '../backbone/model_dir';
import { readModelMeta } from './model_dir';
import { modelInfoOf, type ModelMeta } from './model_info';
import { checkRecognizer, type Recognizer } from './recognize';

/**
 * Node side of a model directory: reads wlasl-model.json, the head and the backbone from disk and checks they
 * fit. The full description (meta) comes along for the settings it fixes (model_dir.ts configOfModel).
 */
export async function loadRecognizerFromDirectory(modelDir: string): Promise<Recognizer & { meta: ModelMeta }> {
  const meta = readModelMeta(modelDir);
  const info = modelInfoOf(meta);
  const head = await tf.loadLayersModel(directoryLoader(modelDir));
  const backbone = await tf.loadLayersModel(directoryLoader(path.join(modelDir, info.backbone.dir)));
  const recognizer = { backbone, head, info, meta };
  checkRecognizer(recognizer, modelDir);
  return recognizer;
}
