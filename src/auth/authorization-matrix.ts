import { TeamRole } from "../modules/members/team-role-values.js";

/*
 * The authorization matrix of SPEC §6 and §9 as plain data. The staff console bundles this file
 * (console/src/permissions.ts), so it imports nothing but the pure role values and has no side
 * effects; the server's check of it is in permissions.ts.
 */

/** Operations guarded by the authorization matrix (SPEC §6). */
export enum Permission {
  ManagePolicy = "ManagePolicy",
  ReadPolicy = "ReadPolicy",
  CreateImpersonationToken = "CreateImpersonationToken",
  AuthenticateImpersonationToken = "AuthenticateImpersonationToken",
  AuthenticateSession = "AuthenticateSession",
  RevokeSession = "RevokeSession",
  ReadSessions = "ReadSessions",
  ReadAudit = "ReadAudit",
  ManageTeamAndProjects = "ManageTeamAndProjects",
  ReadTeamAndProjects = "ReadTeamAndProjects",
  /** A member's own API key; an ADMIN's, anyone's (the service checks which: SPEC §8). */
  RotateApiKey = "RotateApiKey",
  WriteUsers = "WriteUsers",
  ReadUsers = "ReadUsers",
  /** updateUser; changing `protected` is further narrowed by ProtectUsers (SPEC §9). */
  UpdateUsers = "UpdateUsers",
  /** The `protected` field of updateUser: checked by the user service, not on a field (SPEC §9). */
  ProtectUsers = "ProtectUsers",
  ManageWebhooks = "ManageWebhooks",
  ManageSigningKeys = "ManageSigningKeys",
  /** requestImpersonation: as createImpersonationToken (SPEC §9). */
  RequestImpersonation = "RequestImpersonation",
  /** approve/denyImpersonationRequest; never one's own request (the service checks that). */
  DecideImpersonationRequest = "DecideImpersonationRequest",
  ReadImpersonationRequests = "ReadImpersonationRequests",
  /** impersonationCheck: what the calling member's impersonation would come to. */
  CheckImpersonation = "CheckImpersonation",
}

/**
 * Who may attempt each operation. `backend` and `frontend` grants are further narrowed where the
 * project is loaded: the backend only for its own project, the frontend only when the policy allows
 * or with the session's own token.
 */
export interface Grant {
  roles: readonly TeamRole[];
  backend: boolean;
  frontend: boolean;
}

const { ADMIN, DEVELOPER, SUPPORT_MANAGER, VIEWER } = TeamRole;
const allRoles = [ADMIN, DEVELOPER, SUPPORT_MANAGER, VIEWER] as const;
const impersonators = [ADMIN, DEVELOPER, SUPPORT_MANAGER] as const;

export const authorizationMatrix: Readonly<Record<Permission, Grant>> = {
  [Permission.ManagePolicy]: { roles: [ADMIN], backend: false, frontend: false },
  [Permission.ReadPolicy]: { roles: allRoles, backend: true, frontend: false },
  [Permission.CreateImpersonationToken]: { roles: impersonators, backend: false, frontend: false },
  [Permission.AuthenticateImpersonationToken]: { roles: [], backend: true, frontend: true },
  [Permission.AuthenticateSession]: { roles: [], backend: true, frontend: true },
  [Permission.RevokeSession]: { roles: impersonators, backend: true, frontend: true },
  [Permission.ReadSessions]: { roles: allRoles, backend: true, frontend: false },
  [Permission.ReadAudit]: { roles: allRoles, backend: true, frontend: false },
  [Permission.ManageTeamAndProjects]: { roles: [ADMIN], backend: false, frontend: false },
  [Permission.ReadTeamAndProjects]: { roles: allRoles, backend: false, frontend: false },
  [Permission.RotateApiKey]: { roles: allRoles, backend: false, frontend: false },
  [Permission.WriteUsers]: { roles: impersonators, backend: true, frontend: false },
  [Permission.ReadUsers]: { roles: allRoles, backend: true, frontend: false },
  [Permission.UpdateUsers]: { roles: impersonators, backend: true, frontend: false },
  [Permission.ProtectUsers]: { roles: [ADMIN], backend: false, frontend: false },
  [Permission.ManageWebhooks]: { roles: [ADMIN, DEVELOPER], backend: false, frontend: false },
  [Permission.ManageSigningKeys]: { roles: [ADMIN], backend: false, frontend: false },
  [Permission.RequestImpersonation]: { roles: impersonators, backend: false, frontend: false },
  [Permission.DecideImpersonationRequest]: { roles: [ADMIN], backend: false, frontend: false },
  [Permission.ReadImpersonationRequests]: { roles: allRoles, backend: false, frontend: false },
  [Permission.CheckImpersonation]: { roles: allRoles, backend: false, frontend: false },
};
