import { InvalidArgumentError, NotFoundError, mediaIdReferencesOf, type FieldViolation, type MediaReference } from '@waygate/domain';
import type { MediaCatalog, MediaDescription } from './media-catalog';
import { MEDIA_KIND_RULES } from './content-limits';
import type { SendPolicy } from './send-policy';

/** "Audio/OGG; codecs=opus" → "audio/ogg": the bare type Meta's table lists. */
function bareMimeType(mimeType: string): string {
  return (mimeType.split(';')[0] ?? '').trim().toLowerCase();
}

/** What is wrong with a blob for this kind of media, if anything (Meta's type and size table, content-limits.ts). */
function unsuitability(reference: MediaReference, media: MediaDescription): FieldViolation[] {
  const limit = MEDIA_KIND_RULES[reference.kind];
  const violations: FieldViolation[] = [];
  const mimeType = bareMimeType(media.mimeType);
  if (!limit.mimeTypes.includes(mimeType)) {
    violations.push({
      field: reference.field,
      reason: 'UNSUPPORTED_MEDIA_TYPE',
      description: `the media is ${mimeType || 'of no type'}; WhatsApp sends ${reference.kind} as ${limit.mimeTypes.join(', ')}`,
    });
  }
  if (media.sizeBytes > limit.maxBytes) {
    violations.push({
      field: reference.field,
      reason: 'MEDIA_TOO_LARGE',
      description: `the media is ${media.sizeBytes} bytes; WhatsApp sends ${reference.kind} of at most ${limit.maxBytes} bytes`,
    });
  }
  return violations;
}

/**
 * The media-reference send policy: every media-store id a message names must be the tenant's (an unknown id and another
 * tenant's are both NOT_FOUND, naming the field), and its MIME type and size must suit the kind of media
 * (INVALID_ARGUMENT, one violation per problem). One media-store call per distinct id; messages without media by id
 * cost nothing.
 */
export function createMediaReferencePolicy(catalog: MediaCatalog): SendPolicy {
  return {
    name: 'media-reference',
    async check({ tenant, request }) {
      const references = mediaIdReferencesOf(request.content);
      if (references.length === 0) return;
      const distinct = [...new Set(references.map((reference) => reference.mediaId))];
      const described = new Map(
        await Promise.all(distinct.map(async (mediaId) => [mediaId, await catalog.describe(tenant.id, mediaId)] as const)),
      );
      const violations: FieldViolation[] = [];
      for (const reference of references) {
        const media = described.get(reference.mediaId);
        if (!media) throw new NotFoundError(`media (${reference.field})`, reference.mediaId);
        violations.push(...unsuitability(reference, media));
      }
      if (violations.length > 0) throw new InvalidArgumentError(violations);
    },
  };
}
