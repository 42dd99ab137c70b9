import type { AuthCheckerFn } from "type-graphql";
import type { RequestContext } from "../context.js";
import { AppError } from "../errors/app-error.js";
import { ErrorCode } from "../errors/codes.js";
import { deniedCallDraft } from "../modules/audit/audit-denials.js";
import { decide, type Permission } from "./permissions.js";

/**
 * The one gate in front of every guarded field: checks the matrix (SPEC §6) and throws the contract
 * codes itself. A refused attempt at an audited mutation by an authenticated caller is recorded.
 */
export const authChecker: AuthCheckerFn<RequestContext, Permission> = async ({ context, args, info }, permissions) => {
  const decisions = permissions.map((permission) => decide(context.actor, permission));
  if (decisions.includes("allow")) return true;
  if (decisions.includes("unauthenticated")) {
    if (context.actor.kind === "invalid") {
      const key = `credential:${context.ipAddress ?? "unknown"}`;
      if (context.services.failures.isLimited(key)) throw new AppError(ErrorCode.RATE_LIMITED);
      context.services.failures.recordFailure(key);
    }
    throw new AppError(ErrorCode.UNAUTHENTICATED);
  }
  if (info.parentType.name === "Mutation") {
    const draft = await deniedCallDraft(context, context.services.db.sql, info.fieldName, args);
    if (draft) await context.services.audit.recordFailure(context, draft, ErrorCode.FORBIDDEN);
  }
  throw new AppError(ErrorCode.FORBIDDEN);
};
