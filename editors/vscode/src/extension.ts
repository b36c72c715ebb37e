/**
 * Entry point: wires the server manager, the status bar, the commands and the setting watchers.
 *
 * Settings reach the running server live (workspace/didChangeConfiguration, then it pulls
 * workspace/configuration); only what the server cannot take live restarts it: the server
 * command, and the provider when a key from SecretStorage must move to another variable.
 * Both go through this one listener, so a restart and a live update never race.
 */

import * as vscode from 'vscode';

import { PAGE_SCHEME, Pages, registerCommands } from './commands.ts';
import { ServerManager } from './serverManager.ts';
import { SECTION } from './settings.ts';
import { StatusBar } from './statusBar.ts';

let manager: ServerManager | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('qwen-lsp', { log: true });
  const server = new ServerManager(context, output);
  const statusBar = new StatusBar();
  const pages = new Pages();
  manager = server;
  context.subscriptions.push(output, statusBar, pages, server);
  context.subscriptions.push(server.onDidChange((state) => statusBar.update(state)));
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(PAGE_SCHEME, pages),
  );
  registerCommands(context, server, pages);

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration(SECTION)) {
        return;
      }
      if (event.affectsConfiguration(`${SECTION}.server`)) {
        output.info('qwen-lsp.server.path changed: restarting the server');
        await server.restart();
      } else if (
        event.affectsConfiguration(`${SECTION}.provider`) &&
        (await server.keysChanged())
      ) {
        output.info('the provider changed and needs another key: restarting the server');
        await server.restart();
      } else {
        server.notifyConfigurationChanged();
      }
    }),
    context.secrets.onDidChange(async () => {
      if (await server.keysChanged()) {
        await server.restart();
      }
    }),
    // Trusting the workspace lets its settings choose the endpoint: the server must hear it.
    vscode.workspace.onDidGrantWorkspaceTrust(() => server.restart()),
  );

  await server.start();
}

export async function deactivate(): Promise<void> {
  await manager?.stop();
  manager = undefined;
}
