import type { BrowserClient, BrowserSession } from "./browser-client.js";
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";

export interface ImpersonationBannerOptions {
  /** Called after End has revoked the session (e.g. to send the impersonator back to the console). */
  onEnd?: () => void;
  /** Called when End fails (the session stays; the banner shows the error). */
  onError?: (error: unknown) => void;
  clock?: Clock;
}

export interface ImpersonationBanner {
  /** The banner's host element (it renders into an open shadow root). */
  readonly element: HTMLElement;
  /** Removes the banner, its timer and its listener. */
  unmount(): void;
}

/**
 * The banner's styles, as a constructed style sheet adopted by the shadow root: no inline `style`
 * attribute or `<style>` element, so a strict Content-Security-Policy (`style-src 'self'`) lets it be.
 */
const bannerCss = `
:host { all: initial; display: block; position: sticky; top: 0; z-index: 2147483647; }
:host([hidden]) { display: none; }
.bar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; padding: 0.5rem 1rem;
  background: #5b1a00; color: #ffffff; font: 14px/1.4 system-ui, sans-serif; }
.who { margin: 0; flex: 1 1 auto; }
.mode { font-weight: 600; padding: 0.1rem 0.5rem; border: 1px solid currentColor; border-radius: 999px; }
.left { font-variant-numeric: tabular-nums; }
.error { margin: 0; color: #ffd7c2; }
button { font: inherit; font-weight: 600; cursor: pointer; padding: 0.25rem 0.75rem; border-radius: 4px;
  border: 2px solid #ffffff; background: #ffffff; color: #5b1a00; }
button:hover { background: #ffd7c2; }
button:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
button:disabled { cursor: progress; opacity: 0.7; }
`;

/**
 * Mounts a banner that says who is viewing as whom, in which mode, how long the session has left,
 * with an End button that revokes it (SPEC §11). It follows the client's session: hidden without
 * one, updated when it changes. Without `element`, it is inserted at the top of `document.body`.
 */
export function mountImpersonationBanner(client: BrowserClient, element?: HTMLElement, options: ImpersonationBannerOptions = {}): ImpersonationBanner {
  const clock = options.clock ?? systemClock;
  const host = element ?? document.createElement("div");
  if (!element) document.body.prepend(host);
  host.setAttribute("role", "region");
  host.setAttribute("aria-label", "Impersonation");
  host.dataset.masqueradeBanner = "";

  const root = host.shadowRoot ?? host.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(bannerCss);
  root.adoptedStyleSheets = [sheet];

  const bar = el("div", "bar");
  const who = el("p", "who");
  const mode = el("span", "mode");
  const left = el("span", "left");
  const end = el("button");
  end.type = "button";
  end.textContent = "End impersonation";
  const error = el("p", "error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  bar.append(who, mode, left, end, error);
  root.replaceChildren(bar);

  let session: BrowserSession | null = null;
  const render = () => {
    host.hidden = session === null;
    if (!session) return;
    who.replaceChildren(strong(session.impersonator.email), " is viewing as ", strong(session.user.email));
    mode.textContent = session.mode === "READ_ONLY" ? "Read-only" : "Read and write";
    mode.dataset.mode = session.mode;
    left.textContent = timeLeft(session.expiresAt.getTime() - clock.now().getTime());
  };
  const follow = (next: BrowserSession | null) => {
    session = next;
    render();
  };

  end.addEventListener("click", async () => {
    end.disabled = true;
    error.hidden = true;
    try {
      await client.session.end();
      options.onEnd?.();
    } catch (failure) {
      error.textContent = `Could not end the impersonation: ${failure instanceof Error ? failure.message : String(failure)}`;
      error.hidden = false;
      options.onError?.(failure);
    } finally {
      end.disabled = false;
    }
  });

  const unsubscribe = client.session.onChange(follow);
  // Time left, once a second; past the session's end the client reports no session.
  const timer = setInterval(() => follow(client.session.current()), 1000);
  follow(client.session.current());

  return {
    element: host,
    unmount() {
      clearInterval(timer);
      unsubscribe();
      root.replaceChildren();
      if (!element) host.remove();
    },
  };
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
}

function strong(text: string): HTMLElement {
  const node = document.createElement("strong");
  node.textContent = text;
  return node;
}

/** "59 min 58 s left" / "45 s left". */
export function timeLeft(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes} min ${String(seconds % 60).padStart(2, "0")} s left` : `${seconds} s left`;
}
