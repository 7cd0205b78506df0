import type { MediaContentKind, MediaValue, MessageContent } from './message-content';

/** One media-store id a message names, with the request field that names it. */
export interface MediaReference {
  /** The request field, e.g. `image.media_id` or `template.components[0].parameters[0].image.media_id`. */
  readonly field: string;
  /** Which kind of media it must be (the message's kind, or the header parameter's type). */
  readonly kind: MediaContentKind;
  readonly mediaId: string;
}

function referenceOf(prefix: string, kind: MediaContentKind, media: MediaValue): MediaReference[] {
  return 'mediaId' in media.source ? [{ field: `${prefix}.media_id`, kind, mediaId: media.source.mediaId }] : [];
}

/**
 * Every media-store id the content names: the media of an image, video, audio, document or sticker message, template
 * parameters of type image, video or document, and an interactive message's media header. Media given by link is not
 * listed (WhatsApp fetches it itself). ingress checks each at acceptance; delivery-retry uploads each to Meta.
 */
export function mediaIdReferencesOf(content: MessageContent): MediaReference[] {
  switch (content.kind) {
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker':
      return referenceOf(content.kind, content.kind, content);
    case 'template':
      return content.components.flatMap((component, componentIndex) =>
        component.parameters.flatMap((parameter, parameterIndex) => {
          const value = parameter.value;
          if (value.type !== 'image' && value.type !== 'video' && value.type !== 'document') return [];
          return referenceOf(`template.components[${componentIndex}].parameters[${parameterIndex}].${value.type}`, value.type, value.media);
        }),
      );
    case 'interactive': {
      const header = content.header;
      if (!header || header.type === 'text') return [];
      return referenceOf(`interactive.header.${header.type}`, header.type, header.media);
    }
    default:
      return [];
  }
}

/** The distinct media-store ids the content names, in order (see {@link mediaIdReferencesOf}). */
export function mediaIdsOf(content: MessageContent): string[] {
  return [...new Set(mediaIdReferencesOf(content).map((reference) => reference.mediaId))];
}
