/**
 * The member's API key lives in this tab's sessionStorage only (SPEC §11): never localStorage, a
 * cookie or a URL. Closing the tab or signing out forgets it.
 */
const keyName = "masquerade.console.apiKey";
const projectName = "masquerade.console.projectId";

export const keyStorage = {
  read: (): string | null => sessionStorage.getItem(keyName),
  write: (apiKey: string): void => sessionStorage.setItem(keyName, apiKey),
  clear: (): void => {
    sessionStorage.removeItem(keyName);
    sessionStorage.removeItem(projectName);
  },
  readProject: (): string | null => sessionStorage.getItem(projectName),
  writeProject: (projectId: string): void => sessionStorage.setItem(projectName, projectId),
};
