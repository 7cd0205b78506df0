import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The media message types of the Cloud API. */
export type MediaMessageType = 'image' | 'video' | 'audio' | 'document' | 'sticker';

const KB = 1024;
const MB = 1024 * KB;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/**
 * Meta's supported media types and per-type size limits ("Supported Media Types"). Sticker's limit is the animated
 * one; a static sticker may only be {@link STATIC_STICKER_MAX_BYTES}. `audio/opus` is not in that table, but the upload
 * endpoint's own validation accepts it (see {@link UPLOADABLE_MIME_TYPES}).
 */
export const MEDIA_LIMITS: Readonly<Record<MediaMessageType, { maxBytes: number; mimeTypes: readonly string[] }>> = Object.freeze({
  audio: { maxBytes: 16 * MB, mimeTypes: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg', 'audio/opus'] },
  document: {
    maxBytes: 100 * MB,
    mimeTypes: [
      'text/plain',
      'application/vnd.ms-excel',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'application/msword',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.ms-powerpoint',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
      'application/pdf',
    ],
  },
  image: { maxBytes: 5 * MB, mimeTypes: ['image/jpeg', 'image/png'] },
  sticker: { maxBytes: 500 * KB, mimeTypes: ['image/webp'] },
  video: { maxBytes: 16 * MB, mimeTypes: ['video/3gpp', 'video/mp4'] },
});

/** Static (non-animated) stickers are limited to 100 KB; animated ones to 500 KB. */
export const STATIC_STICKER_MAX_BYTES = 100 * KB;

/** The largest file any media type allows (documents). */
export const MAX_MEDIA_BYTES = Math.max(...Object.values(MEDIA_LIMITS).map((limit) => limit.maxBytes));

/**
 * MIME types `POST /{phone_number_id}/media` accepts, in the order Meta's rejection message lists them
 * ("Param file must be a file with one of the following types: ...").
 */
export const UPLOADABLE_MIME_TYPES: readonly string[] = [
  'audio/aac',
  'audio/mp4',
  'audio/mpeg',
  'audio/amr',
  'audio/ogg',
  'audio/opus',
  'application/vnd.ms-powerpoint',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/pdf',
  'text/plain',
  'application/vnd.ms-excel',
  'image/jpeg',
  'image/png',
  'image/webp',
  'video/mp4',
  'video/3gpp',
];

/** Uploaded media lives 30 days, media customers sent 7 days (Meta's media ID lifetimes). */
export const UPLOAD_RETENTION_MS = 30 * DAY_MS;
/** See {@link UPLOAD_RETENTION_MS}. */
export const INBOUND_RETENTION_MS = 7 * DAY_MS;
/** Media URLs from `GET /{media_id}` are valid for 5 minutes. */
export const DOWNLOAD_URL_TTL_MS = 5 * MINUTE_MS;
/** Path of download URLs, mirroring Meta's `https://lookaside.fbsbx.com/whatsapp_business/attachments/`. */
export const MEDIA_DOWNLOAD_PATH = '/whatsapp_business/attachments/';
/** How long fetching a media `link` may take before the send fails. */
export const DEFAULT_LINK_TIMEOUT_MS = 10_000;

/** Normalises a Content-Type / MIME value: lower case, parameters (`; codecs=opus`) dropped. */
export function normaliseMimeType(value: string | null | undefined): string {
  return (value ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The media message type a MIME type belongs to, if Meta supports it at all. */
export function mediaTypeForMime(mimeType: string): MediaMessageType | undefined {
  const mime = normaliseMimeType(mimeType);
  return (Object.keys(MEDIA_LIMITS) as MediaMessageType[]).find((type) => MEDIA_LIMITS[type].mimeTypes.includes(mime));
}

/**
 * True for an animated WebP: a `VP8X` extended header with the animation flag. Only the first 21 bytes are needed,
 * so callers streaming a download can decide without keeping the whole file.
 */
export function isAnimatedWebp(head: Uint8Array): boolean {
  const ascii = (start: number, end: number): string => Buffer.from(head.subarray(start, end)).toString('latin1');
  if (head.length < 21 || ascii(0, 4) !== 'RIFF' || ascii(8, 12) !== 'WEBP' || ascii(12, 16) !== 'VP8X') return false;
  return ((head[20] ?? 0) & 0x02) !== 0;
}

/** Size limit for a file of this message type; stickers depend on whether the WebP is animated. */
export function maxBytesFor(type: MediaMessageType, head: Uint8Array): number {
  if (type === 'sticker' && !isAnimatedWebp(head)) return STATIC_STICKER_MAX_BYTES;
  return MEDIA_LIMITS[type].maxBytes;
}

/** A file the simulator holds, uploaded by the business or sent by a customer. */
export interface StoredMedia {
  id: string;
  /** Business phone number it was uploaded on, or that received it from a customer. */
  phoneNumberId: string;
  mimeType: string;
  /** Lower-case hex SHA-256 of `bytes`, as `GET /{media_id}` returns it. */
  sha256: string;
  fileSize: number;
  filename?: string;
  origin: 'upload' | 'inbound';
  createdAtMs: number;
  expiresAtMs: number;
  bytes: Buffer;
}

/** A Cloud API error as it appears in a failed-message status webhook (`title` equals `message`). */
export interface MediaSendError {
  code: number;
  title: string;
  message: string;
  details: string;
}

/** Result of {@link MediaLibrary.resolveForSend}. */
export type MediaSendResolution = { ok: true; mimeType: string; fileSize: number } | { ok: false; error: MediaSendError };

/** Result of {@link MediaLibrary.resolveDownload}. */
export type MediaDownloadResolution = { ok: true; media: StoredMedia } | { ok: false; reason: 'invalid' | 'expired' | 'gone' };

/** Where an outgoing message's media comes from: exactly what the message's media object says. */
export interface MediaReference {
  type: MediaMessageType;
  id?: string;
  link?: string;
}

/** Input of {@link MediaLibrary.storeUpload} and {@link MediaLibrary.storeInbound}. */
export interface StoreMediaInput {
  phoneNumberId: string;
  mimeType: string;
  bytes: Buffer;
  filename?: string;
}

/** Options of {@link MediaLibrary}. */
export interface MediaLibraryOptions {
  /** Simulated time; every expiry (media, download URLs) is measured on it. */
  clock: { nowMs(): number };
  newMediaId: () => string;
  /** Key that signs download URLs; random per library by default, so URLs cannot be forged or reused across runs. */
  signingKey?: Buffer;
  /** Real-time limit for fetching a media `link`; default {@link DEFAULT_LINK_TIMEOUT_MS}. */
  linkTimeoutMs?: number;
}

/** 131053, the error Meta reports when it cannot use the media of an outgoing message. */
export function mediaUploadError(details: string): MediaSendError {
  return { code: 131053, title: 'Media upload error', message: 'Media upload error', details };
}

function describeBytes(bytes: number): string {
  return `${bytes} bytes`;
}

/** In-memory media store with Meta's retention rules and signed, expiring download URLs. */
export class MediaLibrary {
  private readonly media = new Map<string, StoredMedia>();
  private readonly clock: { nowMs(): number };
  private readonly newMediaId: () => string;
  private readonly signingKey: Buffer;
  private readonly linkTimeoutMs: number;
  private readonly hosted = new Map<string, { mimeType: string; bytes: Uint8Array }>();

  constructor(options: MediaLibraryOptions) {
    this.clock = options.clock;
    this.newMediaId = options.newMediaId;
    this.signingKey = options.signingKey ?? randomBytes(32);
    this.linkTimeoutMs = options.linkTimeoutMs ?? DEFAULT_LINK_TIMEOUT_MS;
  }

  /** Business upload: kept 30 days (Meta). */
  storeUpload(input: StoreMediaInput): StoredMedia {
    return this.store(input, 'upload', UPLOAD_RETENTION_MS);
  }

  /** Media a customer sent (inbound webhooks reference it): kept 7 days. */
  storeInbound(input: StoreMediaInput): StoredMedia {
    return this.store(input, 'inbound', INBOUND_RETENTION_MS);
  }

  /** The media, or undefined when unknown, deleted or expired. */
  get(id: string): StoredMedia | undefined {
    const media = this.media.get(id);
    if (media === undefined) return undefined;
    if (this.clock.nowMs() >= media.expiresAtMs) {
      this.media.delete(id); // frees the bytes as soon as anyone notices the expiry
      return undefined;
    }
    return media;
  }

  /** Deletes the media; false when it was unknown or already gone. */
  delete(id: string): boolean {
    return this.get(id) !== undefined && this.media.delete(id);
  }

  /** A download URL valid for 5 minutes of simulated time, like Meta's lookaside URLs. */
  downloadUrl(media: StoredMedia, baseUrl: string): string {
    // `ext` is the expiry in Unix seconds, as in Meta's URLs; the HMAC binds it to the media id.
    const ext = String(Math.floor((this.clock.nowMs() + DOWNLOAD_URL_TTL_MS) / 1000));
    const query = new URLSearchParams({ mid: media.id, ext, hash: this.sign(media.id, ext) });
    return `${baseUrl.replace(/\/+$/, '')}${MEDIA_DOWNLOAD_PATH}?${query.toString()}`;
  }

  /** Checks a download URL's `mid`, `ext` and `hash`; `invalid` for forged or malformed, `gone` for deleted/expired media. */
  resolveDownload(query: URLSearchParams): MediaDownloadResolution {
    const mid = query.get('mid');
    const ext = query.get('ext');
    const hash = query.get('hash');
    if (mid === null || ext === null || hash === null || !/^\d{1,15}$/.test(ext)) return { ok: false, reason: 'invalid' };
    const expected = Buffer.from(this.sign(mid, ext));
    const given = Buffer.from(hash);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
    if (this.clock.nowMs() >= Number(ext) * 1000) return { ok: false, reason: 'expired' };
    const media = this.get(mid);
    return media === undefined ? { ok: false, reason: 'gone' } : { ok: true, media };
  }

  /** Resolves a media object of an outgoing message the way Meta does before delivering it. */
  async resolveForSend(phoneNumberId: string, ref: MediaReference, signal?: AbortSignal): Promise<MediaSendResolution> {
    if (ref.id !== undefined) return this.resolveStoredForSend(phoneNumberId, ref.type, ref.id);
    if (ref.link !== undefined) return this.fetchLinkForSend(ref.type, ref.link, signal);
    return { ok: false, error: mediaUploadError('Either one of media ID or link must be present.') };
  }

  /** Forgets all media. */
  clear(): void {
    this.media.clear();
    this.hosted.clear();
  }

  /**
   * Serves `bytes` at the https `link` for sends (the control API's hosted media): a message that names the link is
   * resolved from here instead of fetching the internet, so tests and the local demo can send media by link offline.
   */
  hostLink(link: string, mimeType: string, bytes: Uint8Array): void {
    this.hosted.set(link, { mimeType, bytes });
  }

  private store(input: StoreMediaInput, origin: StoredMedia['origin'], retentionMs: number): StoredMedia {
    this.dropExpired();
    const createdAtMs = this.clock.nowMs();
    const media: StoredMedia = {
      id: this.newMediaId(),
      phoneNumberId: input.phoneNumberId,
      mimeType: normaliseMimeType(input.mimeType),
      sha256: createHash('sha256').update(input.bytes).digest('hex'),
      fileSize: input.bytes.length,
      ...(input.filename === undefined ? {} : { filename: input.filename }),
      origin,
      createdAtMs,
      expiresAtMs: createdAtMs + retentionMs,
      bytes: input.bytes,
    };
    this.media.set(media.id, media);
    return media;
  }

  // Expired media is otherwise only dropped when looked up; sweeping on store keeps memory bounded in long runs.
  private dropExpired(): void {
    const now = this.clock.nowMs();
    for (const [id, media] of this.media) if (now >= media.expiresAtMs) this.media.delete(id);
  }

  private sign(mid: string, ext: string): string {
    return createHmac('sha256', this.signingKey).update(`${mid}\n${ext}`).digest('base64url');
  }

  private resolveStoredForSend(phoneNumberId: string, type: MediaMessageType, id: string): MediaSendResolution {
    const media = this.get(id);
    // Meta ties a media id to the phone number it was uploaded on (the `phone_number_id` check of GET /{media_id}).
    if (media === undefined || media.phoneNumberId !== phoneNumberId) {
      return {
        ok: false,
        error: mediaUploadError(`Media ID ${id} does not exist, has expired or does not belong to phone number ${phoneNumberId}.`),
      };
    }
    return checkMedia(type, media.mimeType, media.fileSize, media.bytes.subarray(0, 32), `media ${id}`);
  }

  private async fetchLinkForSend(type: MediaMessageType, link: string, signal?: AbortSignal): Promise<MediaSendResolution> {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      return { ok: false, error: mediaUploadError(`The media link is not a valid URL.`) };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { ok: false, error: mediaUploadError(`The media link must be an http or https URL, not ${url.protocol}.`) };
    }
    const hosted = this.hosted.get(link);
    if (hosted !== undefined) {
      const body = new Blob([new Uint8Array(hosted.bytes)], { type: hosted.mimeType });
      return checkLinkResponse(type, new Response(body, { headers: { 'content-type': hosted.mimeType } }));
    }
    // A real-time limit: this bounds network I/O, not a Meta expiry, so the simulated clock does not apply.
    const timeout = AbortSignal.timeout(this.linkTimeoutMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    try {
      const response = await fetch(url, { signal: combined, redirect: 'follow' });
      return await checkLinkResponse(type, response);
    } catch (error) {
      const reason = timeout.aborted
        ? `no complete response within ${this.linkTimeoutMs} ms`
        : signal?.aborted
          ? 'the send was cancelled'
          : error instanceof Error
            ? error.message
            : String(error);
      return { ok: false, error: mediaUploadError(`Downloading media from the link failed: ${reason}.`) };
    }
  }
}

function checkMedia(type: MediaMessageType, mimeType: string, fileSize: number, head: Uint8Array, what: string): MediaSendResolution {
  const limits = MEDIA_LIMITS[type];
  if (!limits.mimeTypes.includes(mimeType)) {
    return {
      ok: false,
      error: mediaUploadError(
        `The ${what} has MIME type ${mimeType || '(none)'}, which ${type} messages do not support (${limits.mimeTypes.join(', ')}).`,
      ),
    };
  }
  if (fileSize === 0) return { ok: false, error: mediaUploadError(`The ${what} is empty.`) };
  const maxBytes = maxBytesFor(type, head);
  if (fileSize > maxBytes) {
    return {
      ok: false,
      error: mediaUploadError(
        `The ${what} is ${describeBytes(fileSize)}, over the ${describeBytes(maxBytes)} limit for ${type} (${mimeType}).`,
      ),
    };
  }
  return { ok: true, mimeType, fileSize };
}

async function checkLinkResponse(type: MediaMessageType, response: Response): Promise<MediaSendResolution> {
  const fail = async (details: string): Promise<MediaSendResolution> => {
    await response.body?.cancel().catch(() => undefined); // releases the connection without reading the rest
    return { ok: false, error: mediaUploadError(details) };
  };
  if (!response.ok) return fail(`Downloading media from the link failed with HTTP status ${response.status}.`);
  const mimeType = normaliseMimeType(response.headers.get('content-type'));
  const limits = MEDIA_LIMITS[type];
  if (!limits.mimeTypes.includes(mimeType)) {
    return fail(
      `The media link answered with Content-Type ${mimeType || '(none)'}, which ${type} messages do not support (${limits.mimeTypes.join(', ')}).`,
    );
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    return fail(
      `The media at the link is ${describeBytes(declared)}, over the ${describeBytes(limits.maxBytes)} limit for ${type} (${mimeType}).`,
    );
  }
  if (response.body === null) return fail('The media link answered without a body.');

  // Count the bytes instead of buffering them, and stop as soon as the type's limit is passed.
  const reader = response.body.getReader();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let fileSize = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    fileSize += value.length;
    if (headBytes < 32) {
      head.push(value.subarray(0, 32 - headBytes));
      headBytes += Math.min(value.length, 32 - headBytes);
    }
    if (fileSize > limits.maxBytes) {
      await reader.cancel().catch(() => undefined);
      return {
        ok: false,
        error: mediaUploadError(`The media at the link is over the ${describeBytes(limits.maxBytes)} limit for ${type} (${mimeType}).`),
      };
    }
  }
  return checkMedia(type, mimeType, fileSize, Buffer.concat(head), 'media at the link');
}
