import type { ContentSniffer } from '../domain/media-vault';

interface FileTypeModule {
  fileTypeFromBuffer(buffer: Uint8Array): Promise<{ ext: string; mime: string } | undefined>;
}

/**
 * file-type 21 (the newest that runs on Node 20; 22 needs Node 22) is ESM-only: loaded once with import(). The
 * specifier is a variable so that TypeScript's CommonJS output keeps a real dynamic import.
 */
const FILE_TYPE_MODULE = 'file-type';
let loaded: Promise<FileTypeModule> | undefined;

/** The ContentSniffer on file-type's magic-number detection. */
export function createFileTypeSniffer(): ContentSniffer {
  loaded ??= import(FILE_TYPE_MODULE) as Promise<FileTypeModule>;
  return {
    async sniff(sample) {
      const { fileTypeFromBuffer } = await (loaded as Promise<FileTypeModule>);
      return (await fileTypeFromBuffer(sample))?.mime;
    },
  };
}
