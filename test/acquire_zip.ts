import * as fs from 'node:fs';
import * as path from 'node:path';
import yazl from 'yazl';
import { REPO_ROOT } from './helpers';

/** Shared by the acquire tests (not a test file itself). */
export const SAMPLE = path.join(REPO_ROOT, 'data', 'sample');
export const VIDEO_IDS = ['90000', '90001', '90100', '90200', '90300'];

/** A real zip in the Kaggle layout: WLASL_v0.3.json and videos/<id>.mp4 from the embedded sample. */
export async function makeKaggleLikeZip(file: string, names: Record<string, string> = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addFile(path.join(SAMPLE, 'WLASL_v0.3.json'), names['WLASL_v0.3.json'] ?? 'WLASL_v0.3.json');
  zip.addEmptyDirectory('videos');
  for (const id of VIDEO_IDS) zip.addFile(path.join(SAMPLE, 'videos', `${id}.mp4`), names[id] ?? `videos/${id}.mp4`);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const buf = Buffer.concat(chunks);
  fs.writeFileSync(file, buf);
  return buf;
}

