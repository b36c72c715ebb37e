/**
 * The server the extension brings: the qwen-lsp wheel inside the .vsix (`server/qwen_lsp-*.whl`)
 * installed into a private virtual environment in the extension's global storage.
 *
 * The .vsix may also carry every dependency wheel (`server/wheels/`, the offline linux-x64
 * package); then pip is told to use only those (`--no-index --find-links`). A marker file beside
 * the environment records which bundled wheel (name and SHA-256) is installed there, so a new
 * version of the extension installs its own wheel over the old one before the server starts.
 *
 * Free of VS Code: the steps are plain commands run through `Run`, so the unit tests build a
 * real environment from a real wheel.
 */

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { Run } from './python.ts';

export const BUNDLE_DIR = 'server';
export const WHEELS_DIR = 'wheels';
const MARKER = 'installed.json';

/** The wheel inside the extension, and the dependency wheels when it carries them. */
export interface Bundle {
  wheel: string;
  version: string;
  sha256: string;
  /** Folder of every dependency wheel: install with no package index at all. */
  wheelsDir?: string;
}

/** Where the private environment lives under the extension's global storage. */
export interface Layout {
  root: string;
  venv: string;
  python: string;
  server: string;
  marker: string;
}

/** What the marker file says was installed. */
export interface Installed {
  wheel: string;
  sha256: string;
  python: string;
}

export type PrivateState = 'absent' | 'current' | 'outdated';

export interface Step {
  /** What the progress notification says while it runs. */
  title: string;
  command: string;
  args: string[];
}

export function privateLayout(storageDir: string, platform: NodeJS.Platform): Layout {
  const root = path.join(storageDir, 'server');
  const venv = path.join(root, 'venv');
  const bin = platform === 'win32' ? path.join(venv, 'Scripts') : path.join(venv, 'bin');
  const exe = platform === 'win32' ? '.exe' : '';
  return {
    root,
    venv,
    python: path.join(bin, `python${exe}`),
    server: path.join(bin, `qwen-lsp${exe}`),
    marker: path.join(root, MARKER),
  };
}

/** `qwen_lsp-0.2.0-py3-none-any.whl` -> `0.2.0` (the wheel file name's second field). */
export function wheelVersion(fileName: string): string | undefined {
  const match = /^qwen_lsp-([^-]+)-[^-]+-[^-]+-[^-]+\.whl$/.exec(path.basename(fileName));
  return match?.[1];
}

/** The wheel the extension carries, or undefined for a build without one. */
export function findBundle(extensionDir: string): Bundle | undefined {
  const dir = path.join(extensionDir, BUNDLE_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  const wheels = names.filter((name) => wheelVersion(name) !== undefined).sort();
  if (wheels.length !== 1) {
    // None, or several: which one to install would be a guess.
    return undefined;
  }
  const wheel = path.join(dir, wheels[0]);
  const wheelsDir = path.join(dir, WHEELS_DIR);
  let hasWheels = false;
  try {
    hasWheels = fs.statSync(wheelsDir).isDirectory();
  } catch {
    hasWheels = false;
  }
  return {
    wheel,
    version: wheelVersion(wheels[0]) ?? '',
    sha256: createHash('sha256').update(fs.readFileSync(wheel)).digest('hex'),
    wheelsDir: hasWheels ? wheelsDir : undefined,
  };
}

export function readInstalled(layout: Layout): Installed | undefined {
  try {
    const data = JSON.parse(fs.readFileSync(layout.marker, 'utf8'));
    if (typeof data.wheel === 'string' && typeof data.sha256 === 'string') {
      return { wheel: data.wheel, sha256: data.sha256, python: String(data.python ?? '') };
    }
  } catch {
    // No marker, or a damaged one: treated as nothing installed.
  }
  return undefined;
}

export function writeInstalled(layout: Layout, bundle: Bundle, python: string): void {
  const installed: Installed = {
    wheel: path.basename(bundle.wheel),
    sha256: bundle.sha256,
    python,
  };
  fs.writeFileSync(layout.marker, JSON.stringify(installed, null, 2) + '\n');
}

/**
 * absent: no working environment (or no marker: an install that never finished);
 * outdated: it holds another wheel than the one this extension carries; current: ready.
 */
export function privateState(
  layout: Layout,
  bundle: Bundle | undefined,
  isExecutable: (file: string) => boolean,
): PrivateState {
  const installed = readInstalled(layout);
  if (installed === undefined || !isExecutable(layout.python) || !isExecutable(layout.server)) {
    return 'absent';
  }
  if (bundle !== undefined && installed.sha256 !== bundle.sha256) {
    return 'outdated';
  }
  return 'current';
}

function pipArgs(bundle: Bundle): string[] {
  const offline = bundle.wheelsDir ? ['--no-index', '--find-links', bundle.wheelsDir] : [];
  return ['-I', '-m', 'pip', 'install', '--disable-pip-version-check', ...offline];
}

/**
 * The commands that make the environment hold `bundle`: a new environment (from `python`) when
 * there is none, else the new wheel over the old one, then its dependencies.
 */
export function installSteps(
  layout: Layout,
  bundle: Bundle,
  state: PrivateState,
  python: string | undefined,
): Step[] {
  const where = bundle.wheelsDir ? ' from the wheels in the extension' : '';
  if (state === 'absent') {
    if (python === undefined) {
      throw new Error('a new environment needs a Python to make it with');
    }
    return [
      {
        title: 'creating a private Python environment',
        command: python,
        args: ['-I', '-m', 'venv', '--clear', layout.venv],
      },
      {
        title: `installing qwen-lsp ${bundle.version} and its dependencies${where}`,
        command: layout.python,
        args: [...pipArgs(bundle), bundle.wheel],
      },
    ];
  }
  // The same version number may hold other code (a rebuilt wheel): replace it outright first,
  // then let pip add what the new wheel's dependencies need.
  return [
    {
      title: `updating the server to qwen-lsp ${bundle.version}`,
      command: layout.python,
      args: [...pipArgs(bundle), '--force-reinstall', '--no-deps', bundle.wheel],
    },
    {
      title: `installing the dependencies of qwen-lsp ${bundle.version}${where}`,
      command: layout.python,
      args: [...pipArgs(bundle), bundle.wheel],
    },
  ];
}

/**
 * Runs the steps in order; the marker is written only when every step succeeded, so an
 * interrupted install is done again next time. Returns the failing step's message.
 */
export async function install(
  layout: Layout,
  bundle: Bundle,
  state: PrivateState,
  python: string | undefined,
  run: Run,
  report: (title: string) => void,
): Promise<{ ok: true } | { ok: false; message: string }> {
  fs.mkdirSync(layout.root, { recursive: true });
  if (state === 'absent') {
    fs.rmSync(layout.marker, { force: true });
  }
  for (const step of installSteps(layout, bundle, state, python)) {
    report(step.title);
    const result = await run(step.command, step.args);
    if (result.code !== 0) {
      const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join(' ');
      return { ok: false, message: `${step.title} failed (exit ${result.code}): ${tail}` };
    }
  }
  writeInstalled(layout, bundle, python ?? readInstalled(layout)?.python ?? '');
  return { ok: true };
}
