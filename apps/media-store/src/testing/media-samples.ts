/**
 * Test-only: byte sequences that file-type recognises as each type, padded with random bytes to any size. Not real
 * media (nothing decodes them), but exactly what the sniffer sees first in real files.
 */
import { randomBytes } from 'node:crypto';

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]);
}

const HEADS = {
  'image/png': () =>
    Buffer.concat([
      Buffer.from('89504e470d0a1a0a', 'hex'),
      pngChunk('IHDR', Buffer.from('00000010000000100802000000', 'hex')),
      pngChunk('IDAT', randomBytes(64)),
    ]),
  'image/jpeg': () => Buffer.from('ffd8ffe000104a46494600', 'hex'),
  'video/mp4': () => Buffer.from('000000186674797069736f6d0000020069736f6d69736f32000000086d646174', 'hex'),
  'audio/mpeg': () => Buffer.from('fffb9064', 'hex'),
  'application/pdf': () => Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'),
  'image/webp': () => Buffer.concat([Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1')]),
  'image/webp;animated': () => Buffer.concat([Buffer.from('RIFF\0\0\0\0WEBPVP8X', 'latin1'), Buffer.from([10, 0, 0, 0, 0x02, 0, 0, 0])]),
  'application/x-msdownload': () => Buffer.concat([Buffer.from('MZ'), Buffer.alloc(126)]),
  'application/x-elf': () => Buffer.concat([Buffer.from('7f454c46020101', 'hex'), Buffer.alloc(121)]),
} as const;

/** A sample of `size` bytes that sniffs as `kind`. */
export function sampleOf(kind: keyof typeof HEADS, size: number): Buffer {
  const head = HEADS[kind]();
  return Buffer.concat([head, randomBytes(Math.max(0, size - head.length))]).subarray(0, size);
}

/** Plain UTF-8 text of `size` bytes. */
export function textOf(size: number, marker = 'Lorem ipsum dolor sit amet, plain text.'): Buffer {
  const unit = Buffer.from(`${marker}\n`, 'utf8');
  return Buffer.alloc(size, unit);
}
