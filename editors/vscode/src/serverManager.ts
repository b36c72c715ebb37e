/**
 * The server process and its LanguageClient: start, stop, restart on crash with backoff.
 *
 * A fresh LanguageClient is built for every start, so the command, the environment (with the
 * keys from SecretStorage) and the initializationOptions are read anew each time. The client's
 * own restart logic is replaced by `RestartPolicy`; a server that keeps crashing ends with one
 * notification that points at the log. Everything the user can see about the process (phase,
 * the `qwen-lsp/status` figures) is published through `onDidChange`.
 *
 * With no server command set and none on PATH, the server is the one the extension carries,
 * installed on request into a private environment (privateServer.ts) with a Python found as
 * python.ts says; a newer carried wheel is installed there before the server starts.
 */

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  CloseAction,
  type CloseHandlerResult,
  DidChangeConfigurationNotification,
  ErrorAction,
  type ErrorHandlerResult,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  State,
} from 'vscode-languageclient/node';

import { describeKeyEnvironment, keyEnvironment, PROVIDER_KEYS, secretName } from './apiKeys.ts';
import {
  type Bundle,
  findBundle,
  install,
  type Layout,
  privateLayout,
  privateState,
  type PrivateState,
} from './privateServer.ts';
import { choosePython, pythonCandidates, type Run, type RunResult } from './python.ts';
import { RestartPolicy } from './restartPolicy.ts';
import {
  BUNDLED_INSTALL_HINT,
  resolveServerCommand,
  type Lookup,
  type ServerCommand,
} from './serverCommand.ts';
import {
  initializationOptions,
  SECTION,
  serverKeys,
  serverSettings,
  type SettingsTree,
} from './settings.ts';
import { parseStatus, type Phase, type ServerStatus, STATUS_NOTIFICATION } from './status.ts';

export const LANGUAGES = [
  'python',
  'javascript',
  'javascriptreact',
  'typescript',
  'typescriptreact',
  'go',
  'rust',
  'java',
  'c',
  'cpp',
];

export const INSTALL_CHOICE = 'Install the qwen-lsp server';

/** The Python extension's API, as far as it is used here (its `environments` part). */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(
      environment: { path: string } | string,
    ): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
}

export interface ServerState {
  phase: Phase;
  status?: ServerStatus;
  problem?: string;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly policy = new RestartPolicy();
  private readonly changed = new vscode.EventEmitter<ServerState>();
  private state: ServerState = { phase: 'stopped' };
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private keyEnv: Record<string, string> = {};
  private queue: Promise<void> = Promise.resolve();
  readonly onDidChange = this.changed.event;

  private readonly context: vscode.ExtensionContext;
  readonly output: vscode.LogOutputChannel;

  constructor(context: vscode.ExtensionContext, output: vscode.LogOutputChannel) {
    this.context = context;
    this.output = output;
  }

  get current(): ServerState {
    return this.state;
  }

  get running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  /** The server settings the user set, as the server's settings tree. */
  settings(): SettingsTree {
    const properties = this.context.extension.packageJSON.contributes.configuration.properties;
    const config = vscode.workspace.getConfiguration(SECTION);
    return serverSettings(serverKeys(properties), (key) => config.inspect(key));
  }

  private setState(state: ServerState): void {
    this.state = state;
    this.changed.fire(state);
  }

  private lookup(): Lookup {
    return {
      env: process.env,
      platform: process.platform,
      home: os.homedir(),
      workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
      isExecutable,
    };
  }

  private layout(): Layout {
    return privateLayout(this.context.globalStorageUri.fsPath, process.platform);
  }

  private bundle(): Bundle | undefined {
    try {
      return findBundle(this.context.extensionUri.fsPath);
    } catch (error) {
      this.output.warn(`reading the server wheel carried by the extension: ${String(error)}`);
      return undefined;
    }
  }

  /**
   * The interpreter the Python extension has chosen for this workspace, if it is installed.
   * Only in a trusted workspace: there the interpreter may be the folder's own environment,
   * which a cloned repository could have planted.
   */
  private async pythonFromExtension(): Promise<string | undefined> {
    const extension = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
    if (extension === undefined || !vscode.workspace.isTrusted) {
      return undefined;
    }
    try {
      const api = extension.isActive ? extension.exports : await extension.activate();
      const environments = api?.environments;
      if (environments === undefined) {
        return undefined;
      }
      const active = environments.getActiveEnvironmentPath(
        vscode.workspace.workspaceFolders?.[0]?.uri,
      );
      const resolved = await environments.resolveEnvironment(active);
      return resolved?.executable?.uri?.fsPath ?? active.path;
    } catch (error) {
      this.output.warn(`asking the Python extension for its interpreter: ${String(error)}`);
      return undefined;
    }
  }

  /** Runs a program in the extension's storage folder, its output into the log. */
  private readonly runProcess: Run = (command, args) =>
    new Promise<RunResult>((resolve) => {
      const cwd = this.context.globalStorageUri.fsPath;
      fs.mkdirSync(cwd, { recursive: true });
      this.output.info(`running ${command} ${args.join(' ')}`);
      let stdout = '';
      let stderr = '';
      const keep = (text: string) => text.slice(-20000);
      const child = spawn(command, args, {
        cwd,
        env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (chunk: Buffer) => {
        stdout = keep(stdout + chunk.toString());
        this.output.trace(chunk.toString().trimEnd());
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = keep(stderr + chunk.toString());
        this.output.info(chunk.toString().trimEnd());
      });
      child.once('error', (error) => resolve({ code: -1, stdout, stderr: String(error) }));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });

  /**
   * Installs (or updates) the carried server into the private environment, with a progress
   * notification. False, after telling the user why, when it could not.
   */
  private async installPrivate(bundle: Bundle, state: PrivateState): Promise<boolean> {
    const layout = this.layout();
    let python: string | undefined;
    if (state === 'absent') {
      const choice = await choosePython(
        pythonCandidates(await this.pythonFromExtension(), this.lookup()),
        this.runProcess,
      );
      for (const reason of choice.rejected) {
        this.output.warn(`not this Python: ${reason}`);
      }
      if (!choice.ok) {
        this.output.error(choice.message);
        this.setState({ phase: 'missing', problem: choice.message });
        void this.showWithLog(choice.message);
        return false;
      }
      python = choice.python.executable;
      this.output.info(
        `installing the server with Python ${choice.python.version} (${python}, ${choice.python.source})`,
      );
    }
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title:
          state === 'absent' ? 'qwen-lsp: installing the server' : 'qwen-lsp: updating the server',
        cancellable: false,
      },
      (progress) =>
        install(layout, bundle, state, python, this.runProcess, (title) => {
          this.output.info(title);
          progress.report({ message: title });
        }),
    );
    if (!result.ok) {
      const message = `qwen-lsp: installing the server failed: ${result.message}`;
      this.output.error(message);
      this.setState({ phase: 'missing', problem: message });
      void this.showWithLog(message);
      return false;
    }
    this.output.info(`qwen-lsp ${bundle.version} is installed in ${layout.venv}`);
    return true;
  }

  private async showWithLog(message: string): Promise<void> {
    if ((await vscode.window.showErrorMessage(message, 'Open Log')) === 'Open Log') {
      this.output.show();
    }
  }

  /**
   * The setting, else PATH, else the private environment (updated first when the extension
   * carries another wheel than the one installed there).
   */
  private async resolveCommand(): Promise<ServerCommand & { canInstall?: boolean }> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const resolved = resolveServerCommand(config.get<string>('server.path'), this.lookup());
    if (resolved.ok || resolved.settingIsWrong) {
      return resolved;
    }
    const bundle = this.bundle();
    const layout = this.layout();
    const state = privateState(layout, bundle, isExecutable);
    if (state === 'outdated' && bundle !== undefined) {
      // The user updated the extension: its server follows. A failed update keeps the old one.
      await this.installPrivate(bundle, state);
    }
    if (state !== 'absent') {
      return { ok: true, command: layout.server, args: ['--stdio'], source: 'private' };
    }
    if (bundle === undefined) {
      return resolved;
    }
    return {
      ok: false,
      message: `qwen-lsp: the language server was not found. ${BUNDLED_INSTALL_HINT}`,
      settingIsWrong: false,
      canInstall: true,
    };
  }

  /** The "Install the qwen-lsp server" button and command: install, then start it. */
  installServer(): Promise<void> {
    return this.serialize(async () => {
      const bundle = this.bundle();
      if (bundle === undefined) {
        void vscode.window.showErrorMessage(
          'qwen-lsp: this build of the extension carries no server to install; install it from a clone of qwen-lsp (`pipx install .`) or set `qwen-lsp.server.path`.',
        );
        return;
      }
      const layout = this.layout();
      const current = privateState(layout, bundle, isExecutable);
      await this.doStop();
      if (current === 'current' || (await this.installPrivate(bundle, current))) {
        this.policy.reset();
        await this.doStart();
      }
    });
  }

  private async storedKeys(): Promise<Record<string, string | undefined>> {
    const stored: Record<string, string | undefined> = {};
    for (const entry of PROVIDER_KEYS) {
      stored[entry.provider] = await this.context.secrets.get(secretName(entry.provider));
    }
    return stored;
  }

  /** The key variables the server would get now; differs from the running ones after a change. */
  async wantedKeyEnvironment(): Promise<Record<string, string>> {
    const provider = vscode.workspace
      .getConfiguration(SECTION)
      .get<string>('provider', 'dashscope');
    return keyEnvironment(provider, await this.storedKeys());
  }

  async keysChanged(): Promise<boolean> {
    const wanted = await this.wantedKeyEnvironment();
    return JSON.stringify(wanted) !== JSON.stringify(this.keyEnv);
  }

  /** Starts, stops and restarts run one at a time, in the order they were asked for. */
  private serialize(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  start(): Promise<void> {
    return this.serialize(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.serialize(() => this.doStop());
  }

  /** The user asked for it: a clean start, whatever crashed before. */
  restart(): Promise<void> {
    return this.serialize(async () => {
      this.policy.reset();
      await this.doStop();
      await this.doStart();
    });
  }

  private async doStart(): Promise<void> {
    if (this.client !== undefined) {
      return;
    }
    const resolved = await this.resolveCommand();
    if (!resolved.ok) {
      this.output.error(resolved.message);
      this.setState({ phase: 'missing', problem: resolved.message });
      void this.offerInstall(resolved.message, resolved.canInstall === true);
      return;
    }
    this.keyEnv = await this.wantedKeyEnvironment();
    this.output.info(
      `starting ${resolved.command} ${resolved.args.join(' ')} (from ${resolved.source}; ${describeKeyEnvironment(this.keyEnv)})`,
    );
    let owner: LanguageClient | undefined;
    const client: LanguageClient = new LanguageClient(
      'qwen-lsp',
      'qwen-lsp',
      {
        command: resolved.command,
        args: resolved.args,
        // The whole environment passes through: QWEN_LSP_*, proxies, the providers' own keys.
        options: { env: { ...process.env, ...this.keyEnv } },
      },
      this.clientOptions(() => owner),
    );
    owner = client;
    client.onNotification(STATUS_NOTIFICATION, (raw: unknown) => {
      if (this.client === client) {
        this.setState({ phase: 'running', status: parseStatus(raw) });
      }
    });
    this.client = client;
    this.stopping = false;
    this.setState({ phase: 'starting' });
    try {
      await client.start();
      this.setState({ phase: 'running', status: this.state.status });
    } catch (error) {
      this.output.error(`the server did not start: ${String(error)}`);
      if (this.client === client) {
        this.onCrash(`the server did not start: ${String(error)}`);
      }
    }
  }

  /** `owner()` is the client these options belong to: a stale client's events are ignored. */
  private clientOptions(owner: () => LanguageClient | undefined): LanguageClientOptions {
    const settings = this.settings();
    return {
      documentSelector: LANGUAGES.map((language) => ({ scheme: 'file', language })),
      outputChannel: this.output,
      initializationOptions: initializationOptions(settings, vscode.workspace.isTrusted),
      initializationFailedHandler: (error) => {
        this.output.error(`initialize failed: ${String(error)}`);
        return false;
      },
      errorHandler: {
        error: (_error, _message, count): ErrorHandlerResult => ({
          action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
        }),
        closed: (): CloseHandlerResult => {
          if (!this.stopping && owner() === this.client) {
            this.onCrash('the server stopped unexpectedly');
          }
          // Restarts are ours (with backoff); the client must not start its own.
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
      middleware: {
        workspace: {
          // VS Code would answer every contributed key, defaults and `server.path` included;
          // the server gets only what the user set, in its own schema.
          configuration: async (params, token, next) => {
            const mine = this.settings();
            const answers = await next(params, token);
            if (!Array.isArray(answers)) {
              return answers;
            }
            return params.items.map((item, i) => (item.section === SECTION ? mine : answers[i]));
          },
        },
      },
    };
  }

  private onCrash(reason: string): void {
    const crashed = this.client;
    this.client = undefined;
    if (crashed !== undefined) {
      void crashed.dispose().catch(() => undefined);
    }
    const delay = this.policy.onCrash();
    if (delay === undefined) {
      const message = `qwen-lsp: ${reason}, ${this.policy.recentCrashes} times in a few minutes; not restarting it. The log says why.`;
      this.output.error(message);
      this.setState({ phase: 'crashed', problem: message });
      // Not awaited: this may run inside a start, and the user may answer much later.
      void vscode.window.showErrorMessage(message, 'Open Log', 'Restart').then((choice) => {
        if (choice === 'Open Log') {
          this.output.show();
        } else if (choice === 'Restart') {
          void this.restart();
        }
      });
      return;
    }
    this.output.warn(`${reason}; starting it again in ${delay} ms`);
    this.setState({
      phase: 'crashed',
      problem: `qwen-lsp: ${reason}; restarting in ${Math.round(delay / 1000)} s`,
    });
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => void this.start(), delay);
  }

  private async offerInstall(message: string, canInstall: boolean): Promise<void> {
    const choices = canInstall ? [INSTALL_CHOICE, 'Open Settings'] : ['Open Settings'];
    const choice = await vscode.window.showErrorMessage(message, ...choices);
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'qwen-lsp.server.path');
    } else if (choice === INSTALL_CHOICE) {
      await this.installServer();
    }
  }

  private async doStop(): Promise<void> {
    clearTimeout(this.restartTimer);
    const client = this.client;
    this.client = undefined;
    this.stopping = true;
    if (client !== undefined) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.output.warn(`stopping the server: ${String(error)}`);
      }
      await client.dispose().catch(() => undefined);
    }
    this.setState({ phase: 'stopped' });
  }

  /**
   * Tell the running server its settings changed; it then pulls workspace/configuration.
   * Sent by the extension rather than the client's own settings sync, which would also fire on
   * a client being stopped for a restart and try to start it again.
   */
  notifyConfigurationChanged(): void {
    void this.running?.sendNotification(DidChangeConfigurationNotification.type, {
      settings: null,
    });
  }

  /** workspace/executeCommand on the server; undefined when it is not running. */
  async executeCommand(
    command: string,
    args: unknown[],
    token?: vscode.CancellationToken,
  ): Promise<unknown> {
    const client = this.running;
    if (client === undefined) {
      throw new Error('the qwen-lsp server is not running');
    }
    return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }, token);
  }

  /** Whether the running server offers `command` through workspace/executeCommand. */
  supportsCommand(command: string): boolean {
    const commands = this.running?.initializeResult?.capabilities.executeCommandProvider?.commands;
    return commands?.includes(command) ?? false;
  }

  dispose(): void {
    void this.stop();
    this.changed.dispose();
  }
}
