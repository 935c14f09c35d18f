/** Minimal types for yazl (a dev dependency used to build real zips in tests; it ships no types). */
declare module 'yazl' {
  import type { Readable } from 'node:stream';
  class ZipFile {
    outputStream: Readable;
    addFile(realPath: string, metadataPath: string, options?: Record<string, unknown>): void;
    addBuffer(buffer: Buffer, metadataPath: string, options?: Record<string, unknown>): void;
    addEmptyDirectory(metadataPath: string, options?: Record<string, unknown>): void;
    end(options?: Record<string, unknown>, callback?: () => void): void;
  }
  const yazl: { ZipFile: typeof ZipFile };
  export default yazl;
}
