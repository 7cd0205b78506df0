/**
 * Issue 14's shared runtime of a service's part in erasure and customer export (docs/governance.md): every service
 * that holds customer data starts {@link startCustomerDataParticipant} with its CustomerDataParticipant; the archive
 * coordinates with {@link requestCustomerExport}.
 */
export { startCustomerDataParticipant } from './customer-data-participant';
export type { CustomerDataParticipantOptions, RunningCustomerDataParticipant } from './customer-data-participant';
export { CustomerExportUnavailableError, requestCustomerExport } from './customer-export-client';
export type { CustomerExportRequest } from './customer-export-client';
export {
  CUSTOMER_DATA_SERVICES,
  EXPORT_PROTOCOL_VERSION,
  MAX_PAGE_TEXT_BYTES,
  SECTION_NAME,
  SESSION_IDLE_MS,
} from './customer-export-protocol';
export type { ExportFragment } from './customer-export-protocol';
