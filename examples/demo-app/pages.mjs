/** The demo app's two HTML pages. Their scripts are files (a strict CSP allows no inline script). */

/** The browser's settings, as a JSON data block (not executed: the CSP has nothing to say about it). */
function configBlock(config) {
  const json = JSON.stringify({ masqueradeUrl: config.masqueradeUrl, publicToken: config.publicToken }).replace(/</g, "\\u003c");
  return `<script id="demo-config" type="application/json">${json}</script>`;
}

function page(title, body, config, script) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Demo app</title>
<link rel="stylesheet" href="/static/demo.css">
</head>
<body>
${body}
${configBlock(config)}
<script type="module" src="${script}"></script>
</body>
</html>
`;
}

/** The project's login redirect URL: finishes the impersonation, then goes to the app. */
export function loginPage(config) {
  return page(
    "Signing in",
    `<main>
<h1>Demo app</h1>
<p id="status" role="status">Signing you in…</p>
<p id="error" role="alert" hidden></p>
</main>`,
    config,
    "/static/authenticate.js",
  );
}

/** The application: the banner, and three calls to its own backend. */
export function appPage(config) {
  return page(
    "Home",
    `<div id="banner"></div>
<main>
<h1>Demo app</h1>
<p id="who">No impersonation in this tab. Open an impersonation launch link to start one.</p>
<div class="actions">
<button type="button" id="check-local">Check with the backend (local JWT check)</button>
<button type="button" id="check-server">Check with the backend (asks Masquerade)</button>
<button type="button" id="save-note">Save a note (a write)</button>
</div>
<h2>Result</h2>
<output id="result" aria-live="polite"></output>
</main>`,
    config,
    "/static/app.js",
  );
}
