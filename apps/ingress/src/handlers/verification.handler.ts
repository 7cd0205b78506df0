import { unaryHandler } from '@waygate/grpc';
import {
  ProtoVerificationStatus,
  type CancelVerificationRequest,
  type CancelVerificationResponse,
  type CheckVerificationRequest,
  type CheckVerificationResponse,
  type StartVerificationRequest,
  type StartVerificationResponse,
  type VerificationServiceServer,
} from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { VerificationStatus } from '../domain/verification';
import type { VerificationService } from '../domain/verification-service';

const TO_PROTO: Readonly<Record<VerificationStatus, ProtoVerificationStatus>> = {
  PENDING: ProtoVerificationStatus.VERIFICATION_STATUS_PENDING,
  APPROVED: ProtoVerificationStatus.VERIFICATION_STATUS_APPROVED,
  FAILED: ProtoVerificationStatus.VERIFICATION_STATUS_FAILED,
  EXPIRED: ProtoVerificationStatus.VERIFICATION_STATUS_EXPIRED,
  CANCELED: ProtoVerificationStatus.VERIFICATION_STATUS_CANCELED,
  UNDELIVERABLE: ProtoVerificationStatus.VERIFICATION_STATUS_UNDELIVERABLE,
};

/**
 * gRPC VerificationService: translates proto <-> domain. Logs ids and statuses only: never a code, never a number.
 * Authentication (the tenant's API key) and error mapping are libs/grpc's, as for MessagingService.
 */
export function createVerificationHandler(
  service: VerificationService,
  tenants: TenantDirectory,
  logger: Logger,
): VerificationServiceServer {
  return {
    startVerification: unaryHandler<StartVerificationRequest, StartVerificationResponse>(tenants, logger, async (request, tenant) => {
      const started = await service.start(tenant, {
        to: request.to,
        template: request.template,
        codeLength: request.codeLength,
        locale: request.locale,
        phoneNumberId: request.phoneNumberId,
      });
      logger.info(
        {
          tenant_id: tenant.id,
          verification_id: started.verificationId,
          message_id: started.messageId,
          status: started.status,
          resent_suppressed: started.resentSuppressed === true,
        },
        'verification started',
      );
      return {
        verificationId: started.verificationId,
        status: TO_PROTO[started.status],
        expiresAt: started.expiresAt,
        messageId: started.messageId,
        resentSuppressed: started.resentSuppressed === true,
      };
    }),
    checkVerification: unaryHandler<CheckVerificationRequest, CheckVerificationResponse>(tenants, logger, async (request, tenant) => {
      const checked = await service.check(tenant, { verificationId: request.verificationId, to: request.to, code: request.code });
      logger.info(
        { tenant_id: tenant.id, verification_id: checked.verificationId, status: checked.status, attempts_left: checked.attemptsLeft },
        'verification checked',
      );
      return {
        verificationId: checked.verificationId,
        status: TO_PROTO[checked.status],
        attemptsLeft: checked.attemptsLeft,
        expiresAt: checked.expiresAt,
        errorCode: checked.errorCode ?? 0,
        errorTitle: checked.errorTitle ?? '',
      };
    }),
    cancelVerification: unaryHandler<CancelVerificationRequest, CancelVerificationResponse>(tenants, logger, async (request, tenant) => {
      const canceled = await service.cancel(tenant, request.verificationId);
      logger.info({ tenant_id: tenant.id, verification_id: canceled.verificationId, status: canceled.status }, 'verification canceled');
      return { status: TO_PROTO[canceled.status] };
    }),
  };
}
