/**
 * The status bar item: the server's phase and today's figures, and the menu behind a click.
 *
 * The text and tooltip come from `statusView` (pure, unit tested); this module only copies them
 * onto VS Code's StatusBarItem and builds the quick pick the item opens.
 */

import * as vscode from 'vscode';

import type { ServerState } from './serverManager.ts';
import { statusView } from './status.ts';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem(
      'qwen-lsp.status',
      vscode.StatusBarAlignment.Right,
      100,
    );
    this.item.name = 'qwen-lsp';
    this.item.command = 'qwen.showMenu';
    this.update({ phase: 'stopped' });
    this.item.show();
  }

  update(state: ServerState): void {
    const view = statusView(state.phase, state.status, state.problem);
    this.item.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip, true);
    this.item.tooltip = tooltip;
    this.item.backgroundColor =
      view.severity === 'normal'
        ? undefined
        : new vscode.ThemeColor(
            view.severity === 'error'
              ? 'statusBarItem.errorBackground'
              : 'statusBarItem.warningBackground',
          );
  }

  dispose(): void {
    this.item.dispose();
  }
}

interface MenuItem extends vscode.QuickPickItem {
  command: string;
}

/** The menu behind the status bar item. */
export async function showMenu(state: ServerState): Promise<void> {
  const enabled =
    state.status?.enabled ??
    vscode.workspace.getConfiguration('qwen-lsp').get<boolean>('completion.enabled', true);
  const items: MenuItem[] = [
    {
      label: enabled
        ? '$(circle-slash) Turn inline completions off'
        : '$(sparkle) Turn inline completions on',
      command: 'qwen.toggleCompletions',
    },
    { label: '$(graph) Show spend and savings', command: 'qwen.showStats' },
    { label: '$(output) Open server log', command: 'qwen.openLogs' },
    { label: '$(key) Set API key…', command: 'qwen.setApiKey' },
    { label: '$(debug-restart) Restart server', command: 'qwen.restart' },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: 'qwen-lsp',
    placeHolder: state.problem,
  });
  if (picked !== undefined) {
    await vscode.commands.executeCommand(picked.command);
  }
}
