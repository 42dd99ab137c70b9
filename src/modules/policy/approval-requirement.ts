import { registerEnumType } from "type-graphql";

/** Which impersonations need another ADMIN's approval first (SPEC §9). Protected users always do. */
export enum ApprovalRequirement {
  NONE = "NONE",
  PROTECTED_USERS = "PROTECTED_USERS",
  ALL = "ALL",
}

registerEnumType(ApprovalRequirement, {
  name: "ApprovalRequirement",
  description: "Which impersonations need an approved request; a protected user always does, whatever this says.",
});

/** Whether impersonating a user needs an approved request under `requirement`. */
export function approvalRequired(requirement: ApprovalRequirement, user: { protected: boolean }): boolean {
  return user.protected || requirement === ApprovalRequirement.ALL;
}
