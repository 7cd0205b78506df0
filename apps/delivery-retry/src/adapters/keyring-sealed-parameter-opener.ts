import type { MessageContent } from '@waygate/domain';
import { isDataKeyUnavailableError, isSealedText, MalformedSealedTextError, openSealedText, type Keyring } from '@waygate/keyring';
import type { SealedOpening, SealedParameterOpener } from '../domain/sealed-parameters';

/**
 * Recorded when the code can no longer be opened: its sealing key was destroyed (the message outlived the key, which
 * only happens past its validity) or the sealed value is not this tenant's. Meta's 131009 ("parameter value is not
 * valid"), which the outcome table classifies as permanent, with a title that says why.
 */
const CANNOT_OPEN = {
  kind: 'error',
  httpStatus: 0,
  code: 131009,
  title: 'the sealed authentication code can no longer be opened',
} as const;

/** The SealedParameterOpener on the regional keyring (libs/keyring sealed-text). */
export function createKeyringSealedParameterOpener(keyring: Keyring): SealedParameterOpener {
  return {
    async open(tenantId, content): Promise<SealedOpening> {
      if (content.kind !== 'template') return { kind: 'opened', content };
      const sealed = content.components.some((component) =>
        component.parameters.some((parameter) => parameter.value.type === 'text' && isSealedText(parameter.value.text)),
      );
      if (!sealed) return { kind: 'opened', content };
      try {
        const components = await Promise.all(
          content.components.map(async (component) => ({
            ...component,
            parameters: await Promise.all(
              component.parameters.map(async (parameter) =>
                parameter.value.type === 'text' && isSealedText(parameter.value.text)
                  ? { ...parameter, value: { type: 'text' as const, text: await openSealedText(keyring, tenantId, parameter.value.text) } }
                  : parameter,
              ),
            ),
          })),
        );
        return { kind: 'opened', content: { ...content, components } satisfies MessageContent };
      } catch (error) {
        if (isDataKeyUnavailableError(error) || error instanceof MalformedSealedTextError) return { kind: 'failed', outcome: CANNOT_OPEN };
        throw error;
      }
    },
  };
}
