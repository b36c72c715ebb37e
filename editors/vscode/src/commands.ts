/**
 * The extension's commands: explain selection, review file, toggle completions, API keys, spend,
 * log, restart, and installing the server the extension carries.
 *
 * Explain and review run the server's `workspace/executeCommand` commands (`qwen-lsp.explain`,
 * `qwen-lsp.reviewFile`, `qwen-lsp.showStats`) with a progress notification the user can cancel;
 * answers are shown as rendered Markdown in a read-only preview beside the code. Review findings
 * arrive as ordinary diagnostics in the Problems panel.
 */

import * as vscode from 'vscode';

import { PROVIDER_KEYS, secretName, validateKey } from './apiKeys.ts';
import { asMarkdown, explanationPage, statusPage } from './markdown.ts';
import type { ServerManager } from './serverManager.ts';
import { SECTION } from './settings.ts';
import { showMenu } from './statusBar.ts';

export const PAGE_SCHEME = 'qwen-lsp';

/** Read-only Markdown pages (explanations, spend) rendered by VS Code's Markdown preview. */
export class Pages implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly pages = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.pages.get(uri.toString()) ?? '';
  }

  async show(name: string, markdown: string): Promise<void> {
    const uri = vscode.Uri.from({ scheme: PAGE_SCHEME, path: `/${name}.md` });
    this.pages.set(uri.toString(), markdown);
    this.changed.fire(uri);
    try {
      await vscode.commands.executeCommand('markdown.showPreviewToSide', uri);
    } catch {
      // No Markdown preview (a trimmed-down editor): the source is still readable.
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc, {
        viewColumn: vscode.ViewColumn.Beside,
        preview: true,
      });
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function withServerProgress<T>(
  title: string,
  work: (token: vscode.CancellationToken) => Promise<T>,
): Promise<T | undefined> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (_progress, token) => {
      try {
        return await work(token);
      } catch (error) {
        if (!token.isCancellationRequested) {
          void vscode.window.showErrorMessage(`qwen-lsp: ${describeError(error)}`);
        }
        return undefined;
      }
    },
  );
}

function requireServer(server: ServerManager): boolean {
  if (server.running !== undefined) {
    return true;
  }
  const problem = server.current.problem ?? 'the qwen-lsp server is not running.';
  void vscode.window.showWarningMessage(problem, 'Open Log').then((choice) => {
    if (choice === 'Open Log') {
      server.output.show();
    }
  });
  return false;
}

async function explainSelection(server: ServerManager, pages: Pages): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined || !requireServer(server)) {
    return;
  }
  // An empty selection explains the line the cursor is on.
  const selection = editor.selection.isEmpty
    ? editor.document.lineAt(editor.selection.active.line).range
    : editor.selection;
  const uri = editor.document.uri.toString();
  const range = {
    start: { line: selection.start.line, character: selection.start.character },
    end: { line: selection.end.line, character: selection.end.character },
  };
  const result = await withServerProgress('Qwen: explaining the selection…', (token) =>
    server.executeCommand('qwen-lsp.explain', [{ uri, range }], token),
  );
  if (result === undefined) {
    return;
  }
  const name = editor.document.uri.path.split('/').pop() ?? 'file';
  // A selection ending at the start of a line does not include that line.
  const last =
    selection.end.character === 0 && selection.end.line > selection.start.line
      ? selection.end.line - 1
      : selection.end.line;
  await pages.show(
    `Explanation of ${name}`,
    explanationPage(name, selection.start.line + 1, last + 1, asMarkdown(result)),
  );
}

async function reviewFile(server: ServerManager): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined || !requireServer(server)) {
    return;
  }
  if (!server.supportsCommand('qwen-lsp.reviewFile')) {
    void vscode.window.showWarningMessage(
      'qwen-lsp: this server has no qwen-lsp.reviewFile command; update it, or turn on ' +
        '`qwen-lsp.review.onSave` and save the file.',
    );
    return;
  }
  const uri = editor.document.uri.toString();
  const result = await withServerProgress('Qwen: reviewing the file…', (token) =>
    server.executeCommand('qwen-lsp.reviewFile', [{ uri }], token),
  );
  if (result === undefined) {
    return;
  }
  const found = vscode.languages
    .getDiagnostics(editor.document.uri)
    .filter((d) => d.source?.startsWith('qwen'));
  if (found.length > 0) {
    await vscode.commands.executeCommand('workbench.actions.view.problems');
  } else {
    void vscode.window.showInformationMessage(
      'qwen-lsp: the review found nothing to report in this file.',
    );
  }
}

async function toggleCompletions(): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const inspected = config.inspect<boolean>('completion.enabled');
  const enabled = config.get<boolean>('completion.enabled', true);
  // Flip it where the user set it, so a workspace value is not shadowed by a user value.
  const target =
    inspected?.workspaceValue !== undefined
      ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
  await config.update('completion.enabled', !enabled, target);
  vscode.window.setStatusBarMessage(`qwen-lsp: inline completions ${enabled ? 'off' : 'on'}`, 3000);
}

async function setApiKey(context: vscode.ExtensionContext): Promise<void> {
  const current = vscode.workspace.getConfiguration(SECTION).get<string>('provider', 'dashscope');
  const items = PROVIDER_KEYS.map((entry) => ({
    label: entry.label,
    description: entry.provider === current ? 'current provider' : undefined,
    detail: `Passed to the server as ${entry.envVar}. ${entry.hint}.`,
    entry,
  })).sort((a, b) => Number(b.entry.provider === current) - Number(a.entry.provider === current));
  const picked = await vscode.window.showQuickPick(items, { title: 'qwen-lsp: whose API key?' });
  if (picked === undefined) {
    return;
  }
  const key = await vscode.window.showInputBox({
    title: `qwen-lsp: ${picked.entry.label} API key`,
    prompt: "Kept in VS Code's secret storage (the OS keychain), never in settings.json.",
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) => validateKey(value),
  });
  if (key === undefined) {
    return;
  }
  // The secret watcher in extension.ts restarts the server when the key it needs changed.
  await context.secrets.store(secretName(picked.entry.provider), key.trim());
  void vscode.window.showInformationMessage(`qwen-lsp: ${picked.entry.label} key saved.`);
}

async function clearApiKey(context: vscode.ExtensionContext): Promise<void> {
  const stored = [];
  for (const entry of PROVIDER_KEYS) {
    if ((await context.secrets.get(secretName(entry.provider))) !== undefined) {
      stored.push({ label: entry.label, entry });
    }
  }
  if (stored.length === 0) {
    void vscode.window.showInformationMessage('qwen-lsp: no API key is stored in VS Code.');
    return;
  }
  const picked = await vscode.window.showQuickPick(stored, {
    title: 'qwen-lsp: forget which key?',
  });
  if (picked !== undefined) {
    await context.secrets.delete(secretName(picked.entry.provider));
  }
}

async function showStats(server: ServerManager, pages: Pages): Promise<void> {
  if (server.running !== undefined && server.supportsCommand('qwen-lsp.showStats')) {
    const result = await withServerProgress('Qwen: reading the spend ledger…', (token) =>
      server.executeCommand('qwen-lsp.showStats', [], token),
    );
    if (result !== undefined) {
      await pages.show('qwen-lsp spend', asMarkdown(result));
    }
    return;
  }
  await pages.show('qwen-lsp spend', statusPage(server.current.status));
}

export function registerCommands(
  context: vscode.ExtensionContext,
  server: ServerManager,
  pages: Pages,
): void {
  const register = (name: string, run: () => Promise<void> | void) =>
    context.subscriptions.push(vscode.commands.registerCommand(name, run));
  register('qwen.explainSelection', () => explainSelection(server, pages));
  register('qwen.reviewFile', () => reviewFile(server));
  register('qwen.toggleCompletions', toggleCompletions);
  register('qwen.setApiKey', () => setApiKey(context));
  register('qwen.clearApiKey', () => clearApiKey(context));
  register('qwen.showStats', () => showStats(server, pages));
  register('qwen.showMenu', () => showMenu(server.current));
  register('qwen.openLogs', () => server.output.show());
  register('qwen.restart', () => server.restart());
  register('qwen.installServer', () => server.installServer());
}
