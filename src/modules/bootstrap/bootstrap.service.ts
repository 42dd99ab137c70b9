import type { Database } from "../../db/database.js";
import { AppError } from "../../errors/app-error.js";
import { email, httpUrl, requiredText } from "../../graphql/validation.js";
import { teamMemberRepository } from "../members/team-member.repository.js";
import type { TeamMemberService } from "../members/team-member.service.js";
import { TeamRole } from "../members/team-role.js";
import { projectRepository } from "../projects/project.repository.js";
import type { ProjectService } from "../projects/project.service.js";

export interface BootstrapResult {
  adminMemberId: string;
  adminApiKey: string;
  projectId: string;
  projectSecret: string;
  publicToken: string;
}

export class BootstrapRefused extends Error {}

/** What bootstrap works with: the database, and the services that create members and projects. */
export interface BootstrapServices {
  db: Database;
  members: TeamMemberService;
  projects: ProjectService;
}

/**
 * Creates the first ADMIN and the first project, through the member and project services, in one
 * transaction with the check that the database is empty: on a bootstrapped one it refuses and
 * changes nothing.
 */
export async function bootstrap(
  services: BootstrapServices,
  input: { adminEmail: string; projectName: string; loginRedirectUrl: string },
): Promise<BootstrapResult> {
  let adminEmail: string, projectName: string, redirectUrl: string;
  try {
    // Checked here first to name the command's own options in the message.
    adminEmail = email(input.adminEmail, "admin-email");
    projectName = requiredText(input.projectName, "project", 200);
    redirectUrl = httpUrl(input.loginRedirectUrl, "redirect-url").toString();
  } catch (error) {
    throw new BootstrapRefused(error instanceof AppError ? `Invalid input: ${error.message}` : String(error));
  }
  return services.db.transaction(async (tx) => {
    if ((await teamMemberRepository.hasAny(tx.sql)) || (await projectRepository.hasAny(tx.sql))) {
      throw new BootstrapRefused("This database is already bootstrapped (it has team members or projects); nothing was changed.");
    }
    const admin = await services.members.create({ email: adminEmail, role: TeamRole.ADMIN }, tx);
    const project = await services.projects.create({ name: projectName, loginRedirectUrl: redirectUrl }, tx);
    return {
      adminMemberId: admin.member.id,
      adminApiKey: admin.apiKey,
      projectId: project.project.id,
      projectSecret: project.secret,
      publicToken: project.publicToken,
    };
  });
}
