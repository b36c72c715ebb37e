/**
 * Which command starts the server: the `qwen-lsp.server.path` setting, else `qwen-lsp` on PATH.
 * (When neither gives one, the server manager looks for the extension's private environment.)
 *
 * Pure: the file system and the environment come in through `Lookup`, so the rules are unit
 * tested without VS Code. When nothing is found the answer carries the message the user sees,
 * with the install instructions.
 */

import * as path from 'node:path';

export const SERVER_NAME = 'qwen-lsp';
/** qwen-lsp is not on any package index: the sources that work are a clone and the built wheel. */
export const INSTALL_HINT =
  'Install it from a clone of qwen-lsp (`pipx install .`) or from its built wheel ' +
  '(`pipx install qwen_lsp-<version>-py3-none-any.whl`) so that `qwen-lsp` is on your PATH, ' +
  'or set `qwen-lsp.server.path` to its command.';
/** When the extension carries the server's wheel, installing it is one click. */
export const BUNDLED_INSTALL_HINT =
  'Choose "Install the qwen-lsp server" to install the server this extension carries into a ' +
  'private environment, or put `qwen-lsp` on your PATH (from a clone of qwen-lsp: ' +
  '`pipx install .`), or set `qwen-lsp.server.path` to its command.';

export interface Lookup {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  home: string;
  /** The first workspace folder: a relative `server.path` is resolved against it. */
  workspaceFolder?: string;
  isExecutable(file: string): boolean;
}

export type ServerCommand =
  | { ok: true; command: string; args: string[]; source: 'setting' | 'PATH' | 'private' }
  | { ok: false; message: string; settingIsWrong: boolean };

/** `~/x` and `${workspaceFolder}/x`, as users write them in settings. */
export function expandPath(value: string, lookup: Lookup): string {
  let out = value.trim();
  if (out === '~' || out.startsWith('~/') || out.startsWith('~\\')) {
    out = lookup.home + out.slice(1);
  }
  if (lookup.workspaceFolder) {
    out = out.replaceAll('${workspaceFolder}', lookup.workspaceFolder);
  }
  return out;
}

/** Every place on PATH where `name` is an executable, first match first. */
export function findOnPath(name: string, lookup: Lookup): string | undefined {
  const isWindows = lookup.platform === 'win32';
  const pathValue = lookup.env.PATH ?? lookup.env.Path ?? '';
  const dirs = pathValue.split(isWindows ? ';' : ':').filter((d) => d !== '');
  const extensions = isWindows
    ? ['', ...(lookup.env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').map((e) => e.toLowerCase())]
    : [''];
  const join = isWindows ? path.win32.join : path.posix.join;
  for (const dir of dirs) {
    for (const ext of extensions) {
      const candidate = join(dir, name + ext);
      if (lookup.isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

function looksLikePath(value: string): boolean {
  return value.includes('/') || value.includes('\\');
}

export function resolveServerCommand(setting: string | undefined, lookup: Lookup): ServerCommand {
  const args = ['--stdio'];
  const configured = (setting ?? '').trim();
  if (configured !== '') {
    let file = expandPath(configured, lookup);
    if (!looksLikePath(file)) {
      const found = findOnPath(file, lookup);
      if (found) {
        return { ok: true, command: found, args, source: 'setting' };
      }
      return {
        ok: false,
        message: `qwen-lsp: \`qwen-lsp.server.path\` is "${configured}", which is not on PATH. ${INSTALL_HINT}`,
        settingIsWrong: true,
      };
    }
    const isAbsolute = lookup.platform === 'win32' ? path.win32.isAbsolute : path.posix.isAbsolute;
    if (!isAbsolute(file) && lookup.workspaceFolder) {
      file = path.join(lookup.workspaceFolder, file);
    }
    if (lookup.isExecutable(file)) {
      return { ok: true, command: file, args, source: 'setting' };
    }
    const shown = file === configured ? file : `${file} (from "${configured}")`;
    return {
      ok: false,
      message: `qwen-lsp: \`qwen-lsp.server.path\` points at ${shown}, which is not an executable file. ${INSTALL_HINT}`,
      settingIsWrong: true,
    };
  }
  const found = findOnPath(SERVER_NAME, lookup);
  if (found) {
    return { ok: true, command: found, args, source: 'PATH' };
  }
  return {
    ok: false,
    message: `qwen-lsp: the language server was not found. ${INSTALL_HINT}`,
    settingIsWrong: false,
  };
}
