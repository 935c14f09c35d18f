import * as fs from 'node:fs';
import { MetadataError } from '../errors';
import { parseJsonFile } from './json_position';
import { validateWlaslMetadata, type WlaslMetadata } from './schema';

/** Checks what the schema cannot: gloss names and video ids are unique across the whole file. */
function checkUnique(metadata: WlaslMetadata): void {
  const glossSeen = new Map<string, number>();
  const videoSeen = new Map<string, string>();
  metadata.glosses.forEach((g, gi) => {
    const prev = glossSeen.get(g.gloss);
    if (prev !== undefined) throw new MetadataError(`gloss '${g.gloss}' appears twice (entries #${prev} and #${gi})`, { file: metadata.file });
    glossSeen.set(g.gloss, gi);
    g.instances.forEach((inst, ii) => {
      const other = videoSeen.get(inst.videoId);
      if (other !== undefined) {
        throw new MetadataError(`gloss '${g.gloss}' instance #${ii}: field 'video_id' ${inst.videoId} is already used by gloss '${other}'`, { file: metadata.file });
      }
      videoSeen.set(inst.videoId, g.gloss);
    });
  });
}

/**
 * Parses and validates the text of a WLASL_v0.3.json. `file` names the source in errors. Throws MetadataError
 * for bad JSON (with line and column) and for bad fields (naming gloss, instance and field).
 */
export function parseWlaslMetadata(jsonText: string, file: string): WlaslMetadata {
  const raw = parseJsonFile(jsonText, file);
  const metadata = validateWlaslMetadata(raw, file);
  checkUnique(metadata);
  return metadata;
}

/** Reads and validates a WLASL_v0.3.json file once (the original re-read it for every video). */
export function readWlaslMetadata(path: string): WlaslMetadata {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new MetadataError(code === 'ENOENT' ? 'metadata file not found' : `cannot read metadata (${code ?? (error as Error).message})`, { file: path, cause: error });
  }
  return parseWlaslMetadata(text, path);
}
