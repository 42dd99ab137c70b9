import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleContentSecurityPolicy, defaultConsoleDirectory } from "../src/http/console-static.js";
import { startTestApp, tempDir, type TestApp } from "./harness/test-app.js";

/**
 * /console as files over HTTP (SPEC §3, §11): the built directory's files with their types, the
 * single-page app's routes answered with index.html, revalidation by ETag, the CSP and security
 * headers on every answer, and nothing outside the directory. A small stand-in build keeps this file fast; the browser tests
 * (test/console-*.test.ts) serve the real one.
 */
interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: the path goes out exactly as given (fetch would normalise "..", "%2e%2e"). */
function send(port: number, path: string, method = "GET", headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const indexHtml = '<!doctype html><html><head><script type="module" src="/console/assets/app-3f2a1b.js"></script></head><body><div id="app"></div></body></html>';

describe("/console static files", () => {
  const temp = tempDir("masquerade-console-static-");
  const build = { path: join(temp.path, "console") };
  let t: TestApp;
  let withoutBuild: TestApp;

  beforeAll(async () => {
    mkdirSync(join(build.path, "assets"), { recursive: true });
    writeFileSync(join(build.path, "index.html"), indexHtml);
    writeFileSync(join(build.path, "assets", "app-3f2a1b.js"), "console.log('console');\n");
    writeFileSync(join(build.path, "assets", "app-3f2a1b.css"), "body{margin:0}\n");
    // Dotfiles in the build are never served, at its top or under assets/.
    writeFileSync(join(build.path, ".env"), "SECRET=dotfile\n");
    writeFileSync(join(build.path, "assets", ".hidden.js"), "dotfile\n");
    // A file beside the build that no /console path may reach.
    writeFileSync(join(build.path, "..", "masquerade-console-secret.txt"), "outside\n");
    t = await startTestApp({ consoleDirectory: build.path });
    withoutBuild = await startTestApp({ consoleDirectory: join(build.path, "missing") });
  });
  afterAll(async () => {
    await t?.close();
    await withoutBuild?.close();
    temp.remove();
  });

  it("serves index.html at /console and /console/ with the console's CSP and security headers, revalidated on every load", async () => {
    for (const path of ["/console", "/console/", "/console/index.html"]) {
      const answer = await send(t.app.port, path);
      expect(answer.status, path).toBe(200);
      expect(answer.body).toBe(indexHtml);
      expect(answer.headers["content-type"]).toMatch(/^text\/html; ?charset=utf-8$/);
      expect(answer.headers["cache-control"]).toBe("no-cache");
      const csp = answer.headers["content-security-policy"] as string;
      for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "object-src 'none'"]) {
        expect(csp.split("; ")).toContain(directive);
      }
      expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${t.app.port} wss://127.0.0.1:${t.app.port}`);
      expect(csp).not.toContain("unsafe-inline");
      expect(answer.headers["x-content-type-options"]).toBe("nosniff");
      expect(answer.headers["x-frame-options"]).toBe("DENY");
      expect(answer.headers["referrer-policy"]).toBe("no-referrer");
      expect(answer.headers["access-control-allow-origin"]).toBeUndefined();
    }
  });

  it("answers the app's own routes (paths without an extension) with index.html", async () => {
    for (const path of ["/console/users", "/console/users/user_123", "/console/activity?x=1"]) {
      const answer = await send(t.app.port, path);
      expect(answer.status, path).toBe(200);
      expect(answer.body).toBe(indexHtml);
    }
  });

  it("serves hashed assets with their content type, cached as immutable; HEAD without a body", async () => {
    const script = await send(t.app.port, "/console/assets/app-3f2a1b.js");
    expect(script).toMatchObject({ status: 200, body: "console.log('console');\n" });
    expect(script.headers["content-type"]).toMatch(/^text\/javascript\b/);
    expect(script.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(script.headers["content-security-policy"]).toBeDefined();
    const style = await send(t.app.port, "/console/assets/app-3f2a1b.css");
    expect(style.headers["content-type"]).toMatch(/^text\/css\b/);
    const head = await send(t.app.port, "/console/assets/app-3f2a1b.js", "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe(String("console.log('console');\n".length));
    expect(head.body).toBe("");
  });

  it("answers a request with the ETag it was given 304 without a body, with the same headers and caching", async () => {
    for (const [path, cacheControl] of [
      ["/console/assets/app-3f2a1b.js", "public, max-age=31536000, immutable"],
      ["/console/", "no-cache"],
      ["/console/users/user_123", "no-cache"],
    ] as const) {
      const first = await send(t.app.port, path);
      const etag = first.headers.etag as string;
      expect(etag, path).toBeTruthy();
      const again = await send(t.app.port, path, "GET", { "if-none-match": etag });
      expect(again.status, path).toBe(304);
      expect(again.body).toBe("");
      expect(again.headers["cache-control"]).toBe(cacheControl);
      expect(again.headers["content-security-policy"]).toBe(first.headers["content-security-policy"]);
      expect(again.headers["x-frame-options"]).toBe("DENY");
      const stale = await send(t.app.port, path, "GET", { "if-none-match": 'W/"0-0"' });
      expect(stale.status, path).toBe(200);
    }
  });

  it("answers a Range request with the whole file", async () => {
    for (const range of ["bytes=0-3", "bytes=-5", "bytes=9-2"]) {
      const answer = await send(t.app.port, "/console/assets/app-3f2a1b.js", "GET", { range });
      expect(answer, range).toMatchObject({ status: 200, body: "console.log('console');\n" });
    }
  });

  it("answers 404 for a missing asset or file, never index.html", async () => {
    for (const path of ["/console/assets/app-000000.js", "/console/assets/deep/none", "/console/assets/", "/console/favicon.ico", "/console/users/x.json", "/console/users/a@b.json"]) {
      const answer = await send(t.app.port, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body).not.toContain("<html");
    }
  });

  it("lets no path leave the directory, however it is spelled", async () => {
    for (const path of [
      "/console/../masquerade-console-secret.txt",
      "/console/%2e%2e/masquerade-console-secret.txt",
      "/console/assets/%2e%2e%2f%2e%2e%2fmasquerade-console-secret.txt",
      "/console/..%5cmasquerade-console-secret.txt",
      "/console/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/console//etc/passwd",
      "/console/%2fetc%2fpasswd",
      "/console/assets/%2e%2e/%2e%2e/masquerade-console-secret.txt",
      "/console/assets/..%2f..%2fmasquerade-console-secret.txt",
      "/console/.%2e/masquerade-console-secret.txt",
      "/console/assets/%2E%2E",
      "/console/assets/./app-3f2a1b.js",
      "/console/.env",
      "/console/%2eenv",
      "/console/assets/.hidden.js",
      "/console/%00index.html",
      "/console/%E0%A4%A",
    ]) {
      const answer = await send(t.app.port, path);
      expect(answer.body, path).not.toContain("outside");
      expect(answer.body, path).not.toContain("root:");
      expect(answer.body, path).not.toContain("dotfile");
      expect(answer.body, path).not.toContain("<html");
      expect([400, 404], path).toContain(answer.status);
    }
  });

  it("refuses other methods, and is only /console: /consoles and /console.js are not the console", async () => {
    const post = await send(t.app.port, "/console/users", "POST");
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
    for (const path of ["/consoles", "/console.js"]) expect((await send(t.app.port, path)).status, path).toBe(404);
  });

  it("says how to build the console when it is not built, and serves it once built, and each build after", async () => {
    const answer = await send(withoutBuild.app.port, "/console/users");
    expect(answer.status).toBe(404);
    expect(answer.body).toContain("npm run build");
    expect(answer.headers["content-security-policy"]).toBeDefined();

    const later = join(build.path, "missing");
    mkdirSync(join(later, "assets"), { recursive: true });
    writeFileSync(join(later, "assets", "app-aaaaaa.js"), "first;\n");
    writeFileSync(join(later, "index.html"), "<!doctype html><p>first build</p>");
    expect(await send(withoutBuild.app.port, "/console/users")).toMatchObject({ status: 200, body: "<!doctype html><p>first build</p>" });
    expect((await send(withoutBuild.app.port, "/console/assets/app-aaaaaa.js")).body).toBe("first;\n");

    // Built again in place, as vite does: the old hashed asset goes, a new one and a longer index.html come.
    rmSync(join(later, "assets", "app-aaaaaa.js"));
    writeFileSync(join(later, "assets", "app-bbbbbb.js"), "second;\n");
    writeFileSync(join(later, "index.html"), "<!doctype html><p>the second build</p>");
    const rebuilt = await send(withoutBuild.app.port, "/console/users");
    expect(rebuilt).toMatchObject({ status: 200, body: "<!doctype html><p>the second build</p>" });
    expect(rebuilt.headers["content-length"]).toBe(String(rebuilt.body.length));
    expect((await send(withoutBuild.app.port, "/console/assets/app-aaaaaa.js")).status).toBe(404);
    expect((await send(withoutBuild.app.port, "/console/assets/app-bbbbbb.js")).body).toBe("second;\n");

    // A file gone under a build still listed ends its own answer, not the server.
    rmSync(join(later, "assets", "app-bbbbbb.js"));
    await expect(send(withoutBuild.app.port, "/console/assets/app-bbbbbb.js")).rejects.toThrow();
    expect((await send(withoutBuild.app.port, "/console/users")).status).toBe(200);
  });

  it("names no WebSocket source for a Host header that is not a plain host", () => {
    expect(consoleContentSecurityPolicy("evil.example; script-src *")).toContain("connect-src 'self';");
    expect(consoleContentSecurityPolicy("[::1]:4000")).toContain("ws://[::1]:4000");
  });

  it("finds dist/console of the installation from the running code's location", () => {
    const root = join(import.meta.dirname, "..");
    expect(defaultConsoleDirectory(join(root, "src", "http"))).toBe(join(root, "dist", "console"));
    expect(defaultConsoleDirectory(join(root, "dist", "src", "http"))).toBe(join(root, "dist", "console"));
  });
});
