import { registerEnumType } from "type-graphql";

/** What an impersonation may do in the application (SPEC §9); Masquerade tells, the application enforces. */
export enum ImpersonationMode {
  READ_ONLY = "READ_ONLY",
  READ_WRITE = "READ_WRITE",
}

registerEnumType(ImpersonationMode, {
  name: "ImpersonationMode",
  description: "READ_ONLY: the application should refuse writes during the impersonation (the session JWT's imp.mode says so).",
});

/** The session JWT's `imp.mode` claim (SPEC §9). */
export type JwtModeClaim = "read_only" | "read_write";

export function jwtModeClaim(mode: ImpersonationMode): JwtModeClaim {
  return mode === ImpersonationMode.READ_ONLY ? "read_only" : "read_write";
}
