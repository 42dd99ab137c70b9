// The application's page: the banner, and calls to its own backend with the session JWT.
import { createBrowserClient, mountImpersonationBanner } from "/sdk/browser.js";

const config = JSON.parse(document.getElementById("demo-config").textContent);
const client = createBrowserClient({ url: config.masqueradeUrl, publicToken: config.publicToken });
const who = document.getElementById("who");
const result = document.getElementById("result");

mountImpersonationBanner(client, document.getElementById("banner"), {
  onEnd: () => show({ ended: true }),
});

function describe(session) {
  who.textContent = session
    ? `${session.impersonator.email} is signed in as ${session.user.email} (${session.mode === "READ_ONLY" ? "read-only" : "read and write"}).`
    : "No impersonation in this tab. Open an impersonation launch link to start one.";
}
client.session.onChange(describe);
describe(client.session.current());

function show(value) {
  result.textContent = JSON.stringify(value, null, 2);
}

/** Calls the app's backend with the session JWT (refreshed by the SDK when it is about to expire). */
async function callBackend(method, path) {
  let jwt = null;
  try {
    jwt = await client.session.jwt();
  } catch (failure) {
    return show({ status: "no session", code: failure.code });
  }
  const response = await fetch(path, { method, headers: jwt ? { authorization: `Bearer ${jwt}` } : {} });
  show({ status: response.status, ...(await response.json()) });
}

document.getElementById("check-local").addEventListener("click", () => callBackend("GET", "/api/me"));
document.getElementById("check-server").addEventListener("click", () => callBackend("GET", "/api/session"));
document.getElementById("save-note").addEventListener("click", () => callBackend("POST", "/api/notes"));
