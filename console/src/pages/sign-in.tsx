import { useState } from "preact/hooks";

/** The key is read from a password field, checked with `me`, and kept in sessionStorage only. */
export function SignIn(props: { message: string | undefined; onSubmit: (apiKey: string) => Promise<void> }) {
  const [apiKey, setApiKey] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const shown = error ?? props.message;
  return (
    <main class="sign-in">
      <form
        class="card"
        aria-labelledby="sign-in-title"
        onSubmit={async (event) => {
          event.preventDefault();
          if (!apiKey.trim()) {
            setError("Enter your member API key.");
            return;
          }
          setBusy(true);
          setError(undefined);
          try {
            await props.onSubmit(apiKey.trim());
          } catch (caught) {
            setError(caught instanceof Error ? caught.message : String(caught));
            setBusy(false);
          }
        }}
      >
        <h1 id="sign-in-title">Masquerade console</h1>
        <p class="muted">Sign in with your team member API key. It stays in this browser tab only and is forgotten when you sign out or close the tab.</p>
        {shown && (
          <p class="error" role="alert">
            {shown}
          </p>
        )}
        <label for="api-key">Member API key</label>
        <input id="api-key" name="api-key" type="password" autocomplete="off" spellcheck={false} value={apiKey} onInput={(event) => setApiKey(event.currentTarget.value)} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
