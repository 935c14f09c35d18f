/**
 * Video ids become file and folder names (<id>.mp4, frames/<id>/, <id>.bin): one rule for every stage. Plain
 * characters, no separators, no leading dot (hidden names are the stages' temporary folders), no "..", and
 * short enough for any file system with a suffix added. WLASL's own ids are digits.
 */
const SAFE_VIDEO_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export function isSafeVideoId(videoId: string): boolean {
  return SAFE_VIDEO_ID.test(videoId) && !videoId.includes('..');
}

export const SAFE_VIDEO_ID_RULE = 'letters, digits, _, - and inner dots, at most 128 characters';
