/**
 * VS Code's `qwen-lsp.*` settings turned into the server's settings tree.
 *
 * Only values the user actually set (user, workspace or folder settings) are sent: editor
 * settings have a higher priority than the user's config file, the project file and the
 * environment on the server, so sending VS Code's defaults would silently override them.
 * Dotted keys become nested objects (`completion.maxTokens` -> `{completion: {maxTokens}}`),
 * and the extension's own keys (`server.*`) stay here.
 */

export const SECTION = 'qwen-lsp';

/** Keys under `qwen-lsp.` that configure the extension itself, not the server. */
export const CLIENT_ONLY_PREFIXES = ['server.'];

/** What `WorkspaceConfiguration.inspect()` answers, reduced to the scopes a user writes. */
export interface Inspected {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

export type SettingsTree = { [key: string]: unknown };

/** The server keys among the contributed `qwen-lsp.*` properties, without the prefix. */
export function serverKeys(contributedProperties: Record<string, unknown>): string[] {
  return Object.keys(contributedProperties)
    .filter((key) => key.startsWith(`${SECTION}.`))
    .map((key) => key.slice(SECTION.length + 1))
    .filter((key) => !CLIENT_ONLY_PREFIXES.some((prefix) => key.startsWith(prefix)));
}

/** The most specific value the user set, or undefined when only the default applies. */
export function userValue(inspected: Inspected | undefined): unknown {
  if (inspected === undefined) {
    return undefined;
  }
  for (const value of [
    inspected.workspaceFolderValue,
    inspected.workspaceValue,
    inspected.globalValue,
  ]) {
    // null is how a user writes "back to the default" for nullable settings.
    if (value !== undefined && value !== null) {
      return value;
    }
  }
  return undefined;
}

export function setPath(tree: SettingsTree, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      node[part] = {};
    }
    node = node[part] as SettingsTree;
  }
  node[parts[parts.length - 1]] = value;
}

/** The settings tree the server gets: initializationOptions and workspace/configuration. */
export function serverSettings(
  keys: readonly string[],
  inspect: (key: string) => Inspected | undefined,
): SettingsTree {
  const tree: SettingsTree = {};
  for (const key of keys) {
    const value = userValue(inspect(key));
    if (value !== undefined) {
      setPath(tree, key, value);
    }
  }
  return tree;
}

/** initializationOptions: the settings plus whether VS Code trusts the workspace. */
export function initializationOptions(
  settings: SettingsTree,
  workspaceTrusted: boolean,
): SettingsTree {
  return { ...settings, workspaceTrusted };
}
