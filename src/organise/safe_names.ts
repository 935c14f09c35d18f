import { UnsafeNameError } from '../errors';

/**
 * Gloss names as folder names that are safe on any file system (Linux, macOS, Windows) and reversible:
 * letters, digits, '-' and '_' are kept; every other character (including '%', '.', '/', '\\', spaces,
 * control characters and non-ASCII) becomes %XX of its UTF-8 bytes, so decodeURIComponent gives the gloss
 * back. Windows device names (con, nul, com1, ...) get their first letter encoded. WLASL glosses such as
 * "thank you" or "don't want" become "thank%20you" and "don%27t%20want".
 */
const KEEP = /[A-Za-z0-9_-]/;
const WINDOWS_DEVICES = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;
/** Most file systems allow 255 bytes per name. */
const MAX_NAME_BYTES = 255;

function encodeChar(ch: string): string {
  return Array.from(Buffer.from(ch, 'utf8'), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

export function safeGlossName(gloss: string): string {
  if (gloss.length === 0) throw new UnsafeNameError('an empty gloss cannot be a folder name');
  let out = '';
  for (const ch of gloss) out += KEEP.test(ch) ? ch : encodeChar(ch);
  if (WINDOWS_DEVICES.test(out)) out = encodeChar(out[0]!) + out.slice(1);
  if (Buffer.byteLength(out) > MAX_NAME_BYTES) throw new UnsafeNameError(`gloss '${gloss.slice(0, 40)}...' is too long for a folder name (${Buffer.byteLength(out)} bytes encoded)`);
  return out;
}

export function glossFromSafeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch (error) {
    throw new UnsafeNameError(`'${name}' is not a name made by safeGlossName`, { cause: error });
  }
}

/**
 * Safe names for a class list, checked for collisions on case-insensitive file systems (macOS, Windows):
 * 'Book' and 'book' would share a folder there, so that is refused rather than silently merged.
 */
export function safeGlossNames(glosses: readonly string[]): Map<string, string> {
  const byGloss = new Map<string, string>();
  const byFolded = new Map<string, string>();
  for (const gloss of glosses) {
    const safe = safeGlossName(gloss);
    const folded = safe.toLowerCase();
    const other = byFolded.get(folded);
    if (other !== undefined && other !== gloss) {
      throw new UnsafeNameError(`glosses '${other}' and '${gloss}' would share the folder '${safe}' on a case-insensitive file system`);
    }
    byFolded.set(folded, gloss);
    byGloss.set(gloss, safe);
  }
  return byGloss;
}
