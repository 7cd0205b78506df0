/**
 * The media types WhatsApp supports, their size limits, and how a declared type is checked against the type sniffed
 * from the bytes. One table, used by every upload path (PutMedia and UploadMedia).
 */

/** WhatsApp's media kinds; each has its own size limit. */
export type MediaKind = 'image' | 'video' | 'audio' | 'document' | 'sticker';

const KiB = 1024;
const MiB = 1024 * 1024;

/** Size limits per kind (WhatsApp's published maxima; "MB" read as MiB, as the Cloud API measures them). */
export const MEDIA_LIMITS = {
  image: 5 * MiB,
  video: 16 * MiB,
  audio: 16 * MiB,
  document: 100 * MiB,
  /** Static stickers; animated ones get {@link ANIMATED_STICKER_LIMIT}. */
  sticker: 100 * KiB,
} as const satisfies Record<MediaKind, number>;

/** Animated WebP stickers may be larger than static ones. */
export const ANIMATED_STICKER_LIMIT = 500 * KiB;

/** The largest blob of any kind. */
export const MAX_MEDIA_BYTES = MEDIA_LIMITS.document;

/**
 * What a sniffed type must be for each supported declared type. `text` means the sniffer finds no binary signature
 * and the sample is plain text (see {@link looksLikePlainText}): file-type cannot recognise text formats.
 */
const SUPPORTED: Record<string, { kind: MediaKind; sniffed: readonly string[] | 'text' }> = {
  'image/jpeg': { kind: 'image', sniffed: ['image/jpeg'] },
  'image/png': { kind: 'image', sniffed: ['image/png'] },
  'image/webp': { kind: 'sticker', sniffed: ['image/webp'] },
  'video/mp4': { kind: 'video', sniffed: ['video/mp4'] },
  'video/3gpp': { kind: 'video', sniffed: ['video/3gpp'] },
  'audio/aac': { kind: 'audio', sniffed: ['audio/aac'] },
  'audio/amr': { kind: 'audio', sniffed: ['audio/amr'] },
  'audio/mpeg': { kind: 'audio', sniffed: ['audio/mpeg'] },
  // An MP4 container with only an audio track is often recognised as video/mp4 or audio/x-m4a.
  'audio/mp4': { kind: 'audio', sniffed: ['audio/mp4', 'audio/x-m4a', 'video/mp4'] },
  'audio/ogg': { kind: 'audio', sniffed: ['audio/ogg', 'audio/opus'] },
  'application/pdf': { kind: 'document', sniffed: ['application/pdf'] },
  // Legacy Office files are OLE compound files: the sniffer sees the container, not which application wrote it.
  'application/msword': { kind: 'document', sniffed: ['application/x-cfb'] },
  'application/vnd.ms-excel': { kind: 'document', sniffed: ['application/x-cfb'] },
  'application/vnd.ms-powerpoint': { kind: 'document', sniffed: ['application/x-cfb'] },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': {
    kind: 'document',
    sniffed: ['application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  },
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
    kind: 'document',
    sniffed: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  },
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': {
    kind: 'document',
    sniffed: ['application/vnd.openxmlformats-officedocument.presentationml.presentation'],
  },
  'text/plain': { kind: 'document', sniffed: 'text' },
};

/** `type/subtype` lowercased, parameters (e.g. `; codecs=opus`) dropped. */
export function baseMimeType(mimeType: string): string {
  return (mimeType.split(';')[0] ?? '').trim().toLowerCase();
}

/** The kind of a declared type, or undefined when WhatsApp does not support it. */
export function mediaKindOf(mimeType: string): MediaKind | undefined {
  return SUPPORTED[baseMimeType(mimeType)]?.kind;
}

/** Every supported type, for error messages and docs. */
export const SUPPORTED_MIME_TYPES: readonly string[] = Object.keys(SUPPORTED);

/** The size limit of a declared type (static-sticker limit for WebP until the bytes show an animation). */
export function sizeLimitOf(mimeType: string, animated = false): number | undefined {
  const kind = mediaKindOf(mimeType);
  if (kind === undefined) return undefined;
  return kind === 'sticker' && animated ? ANIMATED_STICKER_LIMIT : MEDIA_LIMITS[kind];
}

/**
 * Plain text, by the rule documented in the README: valid UTF-8 (a multi-byte character cut at the sample's end is
 * allowed) with no NUL and no C0 control other than tab, line feed, form feed and carriage return.
 */
export function looksLikePlainText(sample: Buffer, complete: boolean): boolean {
  let text = sample;
  if (!complete) {
    // Drop an incomplete UTF-8 sequence at the cut.
    let cut = sample.length;
    for (let back = 1; back <= 3 && sample.length - back >= 0; back++) {
      const byte = sample[sample.length - back] as number;
      if ((byte & 0xc0) === 0x80) continue;
      if (byte >= 0xc0) cut = sample.length - back;
      break;
    }
    text = sample.subarray(0, cut);
  }
  for (const byte of text) if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(text);
    return true;
  } catch {
    return false;
  }
}

/** Whether a WebP file is animated: a VP8X header with the animation flag. */
export function isAnimatedWebp(sample: Buffer): boolean {
  return sample.length >= 21 && sample.toString('latin1', 12, 16) === 'VP8X' && ((sample[20] as number) & 0x02) !== 0;
}

/** The outcome of checking a declared type against the bytes. */
export type SniffVerdict =
  | { readonly ok: true; readonly mimeType: string; readonly kind: MediaKind; readonly limit: number }
  | { readonly ok: false; readonly reason: 'UNSUPPORTED_TYPE' | 'CONTENT_MISMATCH'; readonly description: string };

/**
 * Checks the declared type against the type sniffed from the first bytes (`sniffed` undefined: no signature found).
 * Only WhatsApp-supported types pass; the answer names the type the bytes really are (WhatsApp's name for it).
 */
export function judgeSniffedType(declared: string, sniffed: string | undefined, sample: Buffer, complete: boolean): SniffVerdict {
  const base = baseMimeType(declared);
  const entry = SUPPORTED[base];
  if (!entry) return { ok: false, reason: 'UNSUPPORTED_TYPE', description: `WhatsApp does not support ${base}` };
  const sniffedBase = sniffed === undefined ? undefined : baseMimeType(sniffed);
  const matches =
    entry.sniffed === 'text'
      ? sniffedBase === undefined && looksLikePlainText(sample, complete)
      : entry.sniffed.includes(sniffedBase ?? '');
  if (!matches) {
    const what = sniffedBase ?? (entry.sniffed === 'text' ? 'not plain text' : 'of no recognised type');
    return { ok: false, reason: 'CONTENT_MISMATCH', description: `declared ${base}, but the content is ${what}` };
  }
  const limit = entry.kind === 'sticker' && isAnimatedWebp(sample) ? ANIMATED_STICKER_LIMIT : MEDIA_LIMITS[entry.kind];
  return { ok: true, mimeType: base, kind: entry.kind, limit };
}
