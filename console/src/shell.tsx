import { useLayoutEffect, useRef } from "preact/hooks";
import { useConsole } from "./console-context.tsx";
import { can } from "./permissions.ts";
import { Link, useRoute } from "./router.tsx";
import { ActivityPage } from "./pages/activity.tsx";
import { ApprovalsPage } from "./pages/approvals.tsx";
import { PolicyPage } from "./pages/policy.tsx";
import { SessionsPage } from "./pages/sessions.tsx";
import { TeamPage } from "./pages/team.tsx";
import { UserPage } from "./pages/user.tsx";
import { UsersPage } from "./pages/users.tsx";
import { WebhooksPage } from "./pages/webhooks.tsx";

const liveLabels = { live: "Live feed on", connecting: "Live feed connecting…", closed: "Live feed idle" } as const;

interface Section {
  path: string;
  label: string;
  shown: boolean;
}

/** The header (project, who is signed in, sign out), the navigation, and the current page. */
export function Shell(props: { onSignOut: () => void; onProjectChange: (projectId: string) => void }) {
  const { member, projects, project, liveState } = useConsole();
  const route = useRoute();
  const sections: Section[] = [
    { path: "/users", label: "Users", shown: true },
    { path: "/sessions", label: "Sessions", shown: true },
    { path: "/activity", label: "Activity", shown: true },
    { path: "/approvals", label: "Approvals", shown: can.decideApprovals(member.role) },
    { path: "/policy", label: "Policy", shown: true },
    { path: "/team", label: "Team", shown: true },
    { path: "/webhooks", label: "Webhooks", shown: can.manageWebhooks(member.role) },
  ];
  // After a navigation, the new page has the focus (as a page load would), for keyboards and screen
  // readers. A layout effect: the focus moves as the page appears, not a frame later, when a key
  // pressed meanwhile would have gone to the link left behind.
  const main = useRef<HTMLElement>(null);
  const firstRoute = useRef(true);
  useLayoutEffect(() => {
    if (firstRoute.current) firstRoute.current = false;
    else main.current?.focus();
  }, [route]);
  const current = sections.find((section) => route === section.path || route.startsWith(`${section.path}/`));
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">Masquerade</span>
        <div class="project-picker">
          <label for="project-picker">Project</label>
          <select id="project-picker" value={project.id} onChange={(event) => props.onProjectChange(event.currentTarget.value)}>
            {projects.map((candidate) => (
              <option value={candidate.id} key={candidate.id}>
                {candidate.name}
              </option>
            ))}
          </select>
        </div>
        <span class={`live-dot live-${liveState}`} role="status">
          {liveLabels[liveState]}
        </span>
        <span class="who" data-testid="signed-in-as">
          {member.email} <span class="role">{member.role}</span>
        </span>
        <button type="button" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <nav class="sidebar" aria-label="Console sections">
        <ul>
          {sections
            .filter((section) => section.shown)
            .map((section) => (
              <li key={section.path}>
                <Link to={section.path} current={section === current}>
                  {section.label}
                </Link>
              </li>
            ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1} ref={main}>
        <CurrentPage route={route} key={project.id} />
      </main>
    </div>
  );
}

function CurrentPage(props: { route: string }) {
  const { member } = useConsole();
  const { route } = props;
  const userMatch = /^\/users\/([^/]+)$/.exec(route);
  if (userMatch) return <UserPage userId={decodeURIComponent(userMatch[1]!)} />;
  switch (route) {
    case "/sessions":
      return <SessionsPage />;
    case "/activity":
      return <ActivityPage />;
    case "/approvals":
      return can.decideApprovals(member.role) ? <ApprovalsPage /> : <UsersPage />;
    case "/policy":
      return <PolicyPage />;
    case "/team":
      return <TeamPage />;
    case "/webhooks":
      return can.manageWebhooks(member.role) ? <WebhooksPage /> : <UsersPage />;
    default:
      return <UsersPage />;
  }
}
