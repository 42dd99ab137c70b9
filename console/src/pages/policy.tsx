import { useEffect, useState } from "preact/hooks";
import {
  ConsolePolicyDocument,
  ConsoleSetPolicyDocument,
  type ApprovalRequirement,
  type ConsolePolicyFieldsFragment,
  type ImpersonationMode,
  type ImpersonationPolicyInput,
} from "../generated/graphql.ts";
import { useAction, useConsole, useLoad } from "../console-context.tsx";
import { can } from "../permissions.ts";
import { ErrorNote, Loading, Page } from "../ui.tsx";

interface PolicyForm {
  allowImpersonation: boolean;
  allowFrontendAuthentication: boolean;
  tokenTtlSeconds: string;
  maxActiveSessionsPerImpersonator: string;
  defaultMode: ImpersonationMode;
  allowReadWrite: boolean;
  requireApproval: ApprovalRequirement;
  approvalTtlMinutes: string;
}

const approvalChoices: Array<[ApprovalRequirement, string]> = [
  ["NONE", "Not required (protected users still need it)"],
  ["PROTECTED_USERS", "For protected users (the default)"],
  ["ALL", "For every impersonation"],
];

function formOf(policy: ConsolePolicyFieldsFragment): PolicyForm {
  return {
    allowImpersonation: policy.allowImpersonation,
    allowFrontendAuthentication: policy.allowFrontendAuthentication,
    tokenTtlSeconds: String(policy.tokenTtlSeconds),
    maxActiveSessionsPerImpersonator: policy.maxActiveSessionsPerImpersonator === null || policy.maxActiveSessionsPerImpersonator === undefined ? "" : String(policy.maxActiveSessionsPerImpersonator),
    defaultMode: policy.defaultMode,
    allowReadWrite: policy.allowReadWrite,
    requireApproval: policy.requireApproval,
    approvalTtlMinutes: String(policy.approvalTtlMinutes),
  };
}

/** The project's impersonation policy: every member reads it, an ADMIN changes it. */
export function PolicyPage() {
  const { call, project, member } = useConsole();
  const policy = useLoad(() => call(ConsolePolicyDocument, { projectId: project.id }), [project.id]);
  // The policy as the server last said it is: from the load, then from each save's answer (not a
  // reload, whose late answer would overwrite what the person has typed since).
  const [current, setCurrent] = useState<ConsolePolicyFieldsFragment>();
  const [form, setForm] = useState<PolicyForm>();
  const [saved, setSaved] = useState(false);
  const save = useAction();
  const editable = can.managePolicy(member.role);
  useEffect(() => {
    if (!policy.data) return;
    setCurrent(policy.data.impersonationPolicy);
    setForm(formOf(policy.data.impersonationPolicy));
  }, [policy.data]);

  if (!form || !current) return <Page title="Policy"><ErrorNote error={policy.error} /><Loading loading={policy.loading} /></Page>;
  const turningOff = current.allowImpersonation && !form.allowImpersonation;
  const set = <K extends keyof PolicyForm>(key: K, value: PolicyForm[K]) => {
    setSaved(false);
    setForm((previous) => previous && { ...previous, [key]: value });
  };

  return (
    <Page title="Policy">
      {!editable && <p class="muted">Only an ADMIN can change the policy; you can read it.</p>}
      <form
        class="card"
        aria-label="Impersonation policy"
        onSubmit={async (event) => {
          event.preventDefault();
          const input: ImpersonationPolicyInput = {
            allowImpersonation: form.allowImpersonation,
            allowFrontendAuthentication: form.allowFrontendAuthentication,
            tokenTtlSeconds: Number(form.tokenTtlSeconds),
            maxActiveSessionsPerImpersonator: form.maxActiveSessionsPerImpersonator.trim() === "" ? null : Number(form.maxActiveSessionsPerImpersonator),
            defaultMode: form.defaultMode,
            allowReadWrite: form.allowReadWrite,
            requireApproval: form.requireApproval,
            approvalTtlMinutes: Number(form.approvalTtlMinutes),
          };
          await save.run(async () => {
            const { setImpersonationPolicy } = await call(ConsoleSetPolicyDocument, { projectId: project.id, input });
            setCurrent(setImpersonationPolicy);
            setForm(formOf(setImpersonationPolicy));
            setSaved(true);
          });
        }}
      >
        {/* Closed while a save is on its way: its answer becomes the form, and would replace what was typed meanwhile. */}
        <fieldset disabled={!editable || save.busy}>
          <legend>Impersonation in {project.name}</legend>
          <label class="inline">
            <input type="checkbox" checked={form.allowImpersonation} onChange={(event) => set("allowImpersonation", event.currentTarget.checked)} /> Allow impersonation
          </label>
          {turningOff && (
            <p class="explain explain-warn" role="status">
              Turning impersonation off revokes every active impersonation session of this project and voids its outstanding tokens and requests, at once. Turning it on again does not revive them.
            </p>
          )}
          <label class="inline">
            <input type="checkbox" checked={form.allowFrontendAuthentication} onChange={(event) => set("allowFrontendAuthentication", event.currentTarget.checked)} /> Allow the application's browser code to exchange tokens (public token)
          </label>
          <label for="policy-ttl">Token lifetime (seconds, 30–3600)</label>
          <input id="policy-ttl" type="number" min={30} max={3600} required value={form.tokenTtlSeconds} onInput={(event) => set("tokenTtlSeconds", event.currentTarget.value)} />
          <label for="policy-max-sessions">Most active sessions per impersonator (1–100; empty: no limit)</label>
          <input id="policy-max-sessions" type="number" min={1} max={100} value={form.maxActiveSessionsPerImpersonator} onInput={(event) => set("maxActiveSessionsPerImpersonator", event.currentTarget.value)} />
          <label class="inline">
            <input
              type="checkbox"
              checked={form.allowReadWrite}
              onChange={(event) => {
                const allowReadWrite = event.currentTarget.checked;
                setSaved(false);
                setForm((previous) => previous && { ...previous, allowReadWrite, defaultMode: allowReadWrite ? previous.defaultMode : "READ_ONLY" });
              }}
            />{" "}
            Allow read-and-write impersonation
          </label>
          <label for="policy-default-mode">Default mode</label>
          <select id="policy-default-mode" value={form.defaultMode} onChange={(event) => set("defaultMode", event.currentTarget.value as ImpersonationMode)}>
            <option value="READ_ONLY">Read only</option>
            <option value="READ_WRITE" disabled={!form.allowReadWrite}>
              Read and write
            </option>
          </select>
          <label for="policy-approval">Approval by a second ADMIN</label>
          <select id="policy-approval" value={form.requireApproval} onChange={(event) => set("requireApproval", event.currentTarget.value as ApprovalRequirement)}>
            {approvalChoices.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
          <p class="muted small">A protected user always needs an approved request, whatever this says.</p>
          <label for="policy-approval-ttl">An approval is valid for (minutes, 5–1440)</label>
          <input id="policy-approval-ttl" type="number" min={5} max={1440} required value={form.approvalTtlMinutes} onInput={(event) => set("approvalTtlMinutes", event.currentTarget.value)} />
          <p class="muted">Sessions last {current.sessionDurationMinutes} minutes and cannot be extended.</p>
          {editable && (
            <div class="row">
              <button type="submit" class="primary" disabled={save.busy}>
                Save policy
              </button>
            </div>
          )}
        </fieldset>
      </form>
      <ErrorNote error={save.error} />
      {saved && (
        <p class="success" role="status">
          Policy saved.
        </p>
      )}
    </Page>
  );
}
