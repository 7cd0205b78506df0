import { isDataKeyUnavailableError, type Keyring } from './keyring';
import { isSealedText, openSealedText, sealText } from './sealed-text';

/**
 * Seals a customer's content at rest under that customer's data key (`tenant.<id>.customer.<ref>`), so that
 * destroying the key at erasure makes every copy unreadable: rows not yet rewritten, WAL frames, backups.
 */
export interface CustomerSealer {
  /** The customer's pseudonym (Keyring.customerRef): what rows keep instead of the number after erasure. */
  customerRef(tenantId: string, customer: string): Promise<string>;
  /** `plaintext` sealed under the data key of `customer` (E.164) of `tenantId` (sealed-text format). */
  seal(tenantId: string, customer: string, plaintext: string): Promise<string>;
  /**
   * Opens what {@link seal} wrote. Undefined when the customer's key was destroyed (the customer was erased): the
   * caller shows the content as erased. A value that is not sealed text is returned as it is (rows written before
   * content was sealed at rest); MalformedSealedTextError when it was altered or is another tenant's.
   */
  open(tenantId: string, stored: string): Promise<string | undefined>;
}

/** The {@link CustomerSealer} over the region's keyring. */
export function createCustomerSealer(keyring: Keyring): CustomerSealer {
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
