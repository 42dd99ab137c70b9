import type { EntityManager } from "@mikro-orm/core";
import { hashSecret, randomSecret, SecretPrefix } from "../../auth/secrets.js";
import type { Clock } from "../../clock.js";
import { AppError } from "../../errors/app-error.js";
import { email, httpUrl, requiredText } from "../../graphql/validation.js";
import { ApiKey } from "../members/api-key.entity.js";
import { TeamMember } from "../members/team-member.entity.js";
import { TeamRole } from "../members/team-role.js";
import { Project } from "../projects/project.entity.js";

export interface BootstrapResult {
  adminMemberId: string;
  adminApiKey: string;
  projectId: string;
  projectSecret: string;
  publicToken: string;
}

export class BootstrapRefused extends Error {}

/**
 * Creates the first ADMIN and the first project, in one transaction, on an empty database only:
 * on a bootstrapped one it refuses and changes nothing.
 */
export async function bootstrap(
  em: EntityManager,
  clock: Clock,
  input: { adminEmail: string; projectName: string; loginRedirectUrl: string },
): Promise<BootstrapResult> {
  let adminEmail: string, projectName: string, redirectUrl: string;
  try {
    adminEmail = email(input.adminEmail, "admin-email");
    projectName = requiredText(input.projectName, "project", 200);
    redirectUrl = httpUrl(input.loginRedirectUrl, "redirect-url").toString();
  } catch (error) {
    throw new BootstrapRefused(error instanceof AppError ? `Invalid input: ${error.message}` : String(error));
  }
  return em.transactional(async (tx) => {
    if ((await tx.count(TeamMember, {})) > 0 || (await tx.count(Project, {})) > 0) {
      throw new BootstrapRefused("This database is already bootstrapped (it has team members or projects); nothing was changed.");
    }
    const now = clock.now();
    const admin = Object.assign(new TeamMember(), { email: adminEmail, role: TeamRole.ADMIN, createdAt: now });
    const adminApiKey = randomSecret(SecretPrefix.memberApiKey);
    const key = Object.assign(new ApiKey(), { memberId: admin.id, keyHash: hashSecret(adminApiKey), createdAt: now });
    const projectSecret = randomSecret(SecretPrefix.projectSecret);
    const publicToken = randomSecret(SecretPrefix.publicToken);
    const project = Object.assign(new Project(), {
      name: projectName,
      loginRedirectUrl: redirectUrl,
      secretHash: hashSecret(projectSecret),
      publicTokenHash: hashSecret(publicToken),
      createdAt: now,
    });
    await tx.insert(admin);
    await tx.insert(key);
    await tx.insert(project);
    return { adminMemberId: admin.id, adminApiKey, projectId: project.id, projectSecret, publicToken };
  });
}
