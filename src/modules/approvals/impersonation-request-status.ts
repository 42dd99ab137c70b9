import { registerEnumType } from "type-graphql";

/** An impersonation request's life (SPEC §9): PENDING → APPROVED → USED, or DENIED, or EXPIRED. */
export enum ImpersonationRequestStatus {
  PENDING = "PENDING",
  APPROVED = "APPROVED",
  DENIED = "DENIED",
  /** Not decided or not used in time, or voided by a kill switch. */
  EXPIRED = "EXPIRED",
  /** Its single token was created. */
  USED = "USED",
}

registerEnumType(ImpersonationRequestStatus, { name: "ImpersonationRequestStatus" });

/**
 * The status a reader sees: a PENDING or APPROVED request whose time is up is EXPIRED, whether or
 * not a write has said so yet (every conditional update also checks `expires_at`).
 */
export function effectiveStatus(stored: ImpersonationRequestStatus, expiresAt: Date, now: Date): ImpersonationRequestStatus {
  const open = stored === ImpersonationRequestStatus.PENDING || stored === ImpersonationRequestStatus.APPROVED;
  return open && expiresAt.getTime() <= now.getTime() ? ImpersonationRequestStatus.EXPIRED : stored;
}
