import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";

/** The console's own routes live under /console/; the server answers each with index.html. */
export const base = "/console";

const listeners = new Set<() => void>();
addEventListener("popstate", () => listeners.forEach((listener) => listener()));

export function navigate(path: string): void {
  history.pushState(null, "", `${base}${path}`);
  listeners.forEach((listener) => listener());
}

/** The current route: the path below /console, e.g. "/users/u_1". */
export function useRoute(): string {
  const read = () => location.pathname.slice(base.length) || "/";
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const listener = () => setRoute(read());
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return route;
}

export function Link(props: { to: string; children: ComponentChildren; current?: boolean; class?: string }) {
  return (
    <a
      href={`${base}${props.to}`}
      class={props.class}
      aria-current={props.current ? "page" : undefined}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}
