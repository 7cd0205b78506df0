import { isDataKeyUnavailableError, type Keyring } from './keyring';
import { isSealedText, openSealedText, sealText } from './sealed-text';

/**
 * Content at rest under a customer's data key (issue 14): a store seals a customer's message text and content with
 * {@link CustomerContentCipher.seal} before writing it and opens it when reading. Erasure destroys the customer's key
 * (keyring.destroyKey({tenantId, customerRef})), after which every copy, in the store, its WAL or a backup, is
 * unreadable.
 */
export interface CustomerContentCipher {
  /** The customer's pseudonym (keyring.customerRef): what rows keep in place of the number once erased. */
  customerRef(tenantId: string, customer: string): Promise<string>;
  /** `plaintext` sealed under the data key of (tenant, customer) (sealed text, `wgsealed:v1:…`). */
  seal(tenantId: string, customer: string, plaintext: string): Promise<string>;
  /**
   * The plaintext of a stored value. A value that is not sealed (written before content was sealed) is returned as
   * it is; a value whose key was destroyed (the customer was erased) is `undefined`: the caller treats it as erased.
   * A malformed or altered value throws (MalformedSealedTextError).
   */
  open(tenantId: string, stored: string): Promise<string | undefined>;
}

/** The cipher over the region keyring (keys are cached by the keyring, so the hot paths cost one AES-GCM each). */
export function createCustomerContentCipher(keyring: Keyring): CustomerContentCipher {
  return {
    customerRef: (tenantId, customer) => keyring.customerRef(tenantId, customer),
    async seal(tenantId, customer, plaintext) {
      const customerRef = await keyring.customerRef(tenantId, customer);
      return sealText(keyring, { tenantId, customerRef }, plaintext);
    },
    async open(tenantId, stored) {
      if (!isSealedText(stored)) return stored;
      try {
        return await openSealedText(keyring, tenantId, stored);
      } catch (error) {
        if (isDataKeyUnavailableError(error)) return undefined;
        throw error;
      }
    },
  };
}
