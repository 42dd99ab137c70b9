// The login redirect page: Masquerade's launch link opens it with ?token_type=impersonation&token=…
import { createBrowserClient } from "/sdk/browser.js";

const config = JSON.parse(document.getElementById("demo-config").textContent);
const client = createBrowserClient({ url: config.masqueradeUrl, publicToken: config.publicToken });
const status = document.getElementById("status");
const error = document.getElementById("error");

try {
  // Removes the token from the address bar, exchanges it, and keeps the session in sessionStorage.
  const session = await client.authenticateByUrl();
  if (session) {
    location.replace("/");
  } else {
    status.textContent = "This page finishes an impersonation: open it through a launch link from Masquerade.";
  }
} catch (failure) {
  status.textContent = "The impersonation could not start.";
  error.textContent = `${failure.code ?? "ERROR"}: ${failure.message}`;
  error.dataset.code = failure.code ?? "";
  error.hidden = false;
}
