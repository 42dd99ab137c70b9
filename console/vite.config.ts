import { defineConfig } from "vite";

/**
 * The staff console: a single-page app built into dist/console, served by the server at /console
 * (src/http/console-static.ts). `npm run build` runs `vite build console`, so paths here are
 * relative to this folder. Everything is bundled: the page loads nothing from anywhere else.
 */
export default defineConfig({
  base: "/console/",
  build: {
    outDir: "../dist/console",
    emptyOutDir: true,
    // The CSP allows no inline script: no module-preload polyfill, no inlined assets.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    target: "es2022",
  },
  oxc: {
    jsx: { runtime: "automatic", importSource: "preact" },
  },
});
