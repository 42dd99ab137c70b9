import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import type { Client } from "graphql-ws";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ConsoleMeDocument, ConsoleProjectsDocument } from "./generated/graphql.ts";
import { ApiError, describeError, request } from "./api.ts";
import { ConsoleContext, isUnauthenticated, type ConsoleState, type Member, type Project } from "./console-context.tsx";
import { keyStorage } from "./key-storage.ts";
import { createLiveClient, type LiveState } from "./live.ts";
import { Shell } from "./shell.tsx";
import { SignIn } from "./pages/sign-in.tsx";

const refusedKeyMessage = "Your API key is no longer accepted: it was rotated or revoked, or your membership was disabled. Sign in again with a current key.";
export const wrongKeyMessage = "That API key was not accepted: it is wrong, has been rotated, or its member is disabled.";

interface SignedIn {
  apiKey: string;
  member: Member;
  projects: Project[];
}

/** Signs in with the stored key (if any), then shows the console; any refusal of the key signs out. */
export function App() {
  const [signedIn, setSignedIn] = useState<SignedIn | null>(null);
  const [checking, setChecking] = useState(() => keyStorage.read() !== null);
  const [message, setMessage] = useState<string>();

  const signOut = (why?: string) => {
    keyStorage.clear();
    setSignedIn(null);
    setMessage(why);
  };

  /** Checks a key with `me` and loads the projects; throws ApiError on refusal. */
  const signIn = async (apiKey: string): Promise<void> => {
    const { me } = await request(apiKey, ConsoleMeDocument, {});
    if (!me) throw new ApiError(wrongKeyMessage, "UNAUTHENTICATED");
    const projects = (await request(apiKey, ConsoleProjectsDocument, {})).projects.edges.map((edge) => edge.node).sort((a, b) => a.name.localeCompare(b.name));
    keyStorage.write(apiKey);
    setMessage(undefined);
    setSignedIn({ apiKey, member: me, projects });
  };

  useEffect(() => {
    const stored = keyStorage.read();
    if (!stored) return;
    signIn(stored)
      .catch((error: unknown) => signOut(isUnauthenticated(error) ? refusedKeyMessage : describeError(error)))
      .finally(() => setChecking(false));
  }, []);

  if (checking) return <p class="muted center">Checking your key…</p>;
  if (!signedIn) {
    return (
      <SignIn
        message={message}
        onSubmit={(apiKey) =>
          signIn(apiKey).catch((error: unknown) => {
            throw new Error(isUnauthenticated(error) ? wrongKeyMessage : describeError(error));
          })
        }
      />
    );
  }
  return <SignedInConsole {...signedIn} onSignOut={signOut} />;
}

function SignedInConsole(props: SignedIn & { onSignOut: (why?: string) => void }) {
  const { apiKey, member, projects, onSignOut } = props;
  const [projectId, setProjectId] = useState(() => {
    const stored = keyStorage.readProject();
    return projects.some((project) => project.id === stored) ? stored! : (projects[0]?.id ?? "");
  });
  const [liveState, setLiveState] = useState<LiveState>("closed");
  const expired = useRef(false);
  const expire = () => {
    if (expired.current) return;
    expired.current = true;
    onSignOut(refusedKeyMessage);
  };
  const live = useMemo<Client>(() => createLiveClient(apiKey, setLiveState, expire), [apiKey]);
  useEffect(() => () => void live.dispose(), [live]);

  const project = projects.find((candidate) => candidate.id === projectId);
  if (!project) {
    return (
      <main class="center">
        <p>There is no project yet. An ADMIN creates one with `createProject` (or `npm run bootstrap`).</p>
        <button type="button" onClick={() => onSignOut()}>
          Sign out
        </button>
      </main>
    );
  }
  const state: ConsoleState = {
    member,
    projects,
    project,
    live,
    liveState,
    refused: expire,
    async call<TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, variables: TVariables): Promise<TResult> {
      try {
        return await request(apiKey, document, variables);
      } catch (error) {
        if (isUnauthenticated(error)) expire();
        throw error;
      }
    },
  };
  return (
    <ConsoleContext.Provider value={state}>
      <Shell
        onSignOut={() => onSignOut("You are signed out. The key is no longer kept in this tab.")}
        onProjectChange={(id) => {
          keyStorage.writeProject(id);
          setProjectId(id);
        }}
      />
    </ConsoleContext.Provider>
  );
}
