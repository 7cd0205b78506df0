import { createHash, randomBytes } from 'node:crypto';

type ByteSource = (length: number) => Buffer;

/** Reproducible bytes: sha256 blocks of `seed:stream:counter`, so each stream is independent of the others. */
function seededByteSource(seed: number, stream: string): ByteSource {
  let counter = 0;
  return (length) => {
    const blocks: Buffer[] = [];
    let collected = 0;
    while (collected < length) {
      const block = createHash('sha256').update(`${seed}:${stream}:${counter}`).digest();
      counter += 1;
      blocks.push(block);
      collected += block.length;
    }
    return Buffer.concat(blocks).subarray(0, length);
  };
}

function byteSource(seed: number | undefined, stream: string): ByteSource {
  return seed === undefined ? (length) => randomBytes(length) : seededByteSource(seed, stream);
}

// Real wamids are base64 of a small protobuf-like record: 0x1C 0x18 <len> <wa_id> 0x15 0x02 0x00 0x11 0x18 0x12 <18-char hex id> 0x00.
const WAMID_HEAD = Buffer.from([0x1c, 0x18]);
const WAMID_MIDDLE = Buffer.from([0x15, 0x02, 0x00, 0x11, 0x18, 0x12]);
const WAMID_TAIL = Buffer.from([0x00]);

/** Builds a wamid shaped like Meta's, embedding the recipient's wa_id. */
export function encodeWamid(waId: string, uniqueHex: string): string {
  const record = Buffer.concat([
    WAMID_HEAD,
    Buffer.from([waId.length]),
    Buffer.from(waId, 'ascii'),
    WAMID_MIDDLE,
    Buffer.from(uniqueHex.toUpperCase(), 'ascii'),
    WAMID_TAIL,
  ]);
  return `wamid.${record.toString('base64')}`;
}

/** Generates the identifiers the simulator hands out. */
export interface IdSource {
  wamid(waId: string): string;
  /** Graph API request trace id included in error bodies. */
  fbtraceId(): string;
  /** Media ids are numeric strings, like Meta's. */
  mediaId(): string;
  /** Uniform in [0, 1); reproducible with a seed, for probabilistic fault injection. */
  random(): number;
}

/** With a seed, wamids, media ids and random choices repeat run to run; fbtrace ids are always random. */
export function createIdSource(seed?: number): IdSource {
  const wamidBytes = byteSource(seed, 'wamid');
  const mediaBytes = byteSource(seed, 'media');
  const randomSource = byteSource(seed, 'random');
  return {
    wamid: (waId) => encodeWamid(waId, wamidBytes(9).toString('hex')),
    fbtraceId: () => `A${randomBytes(16).toString('base64url')}`,
    // 15-16 digits without a leading zero, like Meta's media ids.
    mediaId: () => `1${(mediaBytes(8).readBigUInt64BE() % 10n ** 15n).toString().padStart(15, '0')}`,
    // 53 random bits, the precision of a double.
    random: () => Number(randomSource(8).readBigUInt64BE() >> 11n) / 2 ** 53,
  };
}
