/**
 * Error classes. Every error a user can cause names the file (or item) and the problem, so a failure in a
 * 21,083-video run points at the one video to look at instead of a stack trace.
 */
export class WlaslError extends Error {
  /** File (or URL, or item id) the error is about, when there is one. */
  readonly file?: string;

  constructor(message: string, options: { file?: string; cause?: unknown } = {}) {
    super(options.file ? `${options.file}: ${message}` : message, { cause: options.cause });
    this.name = new.target.name;
    this.file = options.file;
  }
}

/** Wrong or inconsistent configuration (a bad CLI flag, an unknown preset, an impossible window). */
export class ConfigError extends WlaslError {}

/** WLASL metadata that does not follow the schema; names gloss, instance and field where known. */
export class MetadataError extends WlaslError {}

/** A name (gloss, video id, archive entry) that would be unsafe as a path component. */
export class UnsafeNameError extends WlaslError {}

/** Archive extraction problems (zip-slip, symlinks, corrupt archive). */
export class ArchiveError extends WlaslError {}

/** Network download problems (offline, unauthorised, interrupted). */
export class DownloadError extends WlaslError {}

/** A video that cannot be probed or decoded, or has too few frames for the window. */
export class VideoError extends WlaslError {}

/** Backbone weights that cannot be found, downloaded or verified. */
export class WeightsError extends WlaslError {}

/** A feature cache written for another backbone or other preprocessing, or damaged. */
export class CacheError extends WlaslError {}

/** A model directory that is missing files, damaged, or does not match its config. */
export class ModelDirError extends WlaslError {}

/** An output that cannot be written: disk full, read-only or forbidden folder. `code` is the system's (ENOSPC...). */
export class OutputError extends WlaslError {
  readonly code?: string;

  constructor(message: string, options: { file?: string; cause?: unknown; code?: string } = {}) {
    super(message, options);
    this.code = options.code;
  }
}

const WRITE_PROBLEMS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  ENOTDIR: 'part of the path is a file, not a folder',
};

/** "no space left on device (ENOSPC)" when a failed write (raw or OutputError) concerns the output location. */
export function writeProblem(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code in WRITE_PROBLEMS ? `${WRITE_PROBLEMS[code]} (${code})` : undefined;
}

/** Wraps a failed write of `file` as an OutputError saying what happened ("no space left on device (ENOSPC)"). */
export function outputError(error: unknown, file: string, what = 'cannot write'): WlaslError {
  if (error instanceof WlaslError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const problem = writeProblem(error) ?? code ?? (error as Error | undefined)?.message ?? String(error);
  return new OutputError(`${what}: ${problem}`, { file, cause: error, code });
}

/** The one line to show a user for any error: our errors already carry file and reason. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
