/**
 * Which Python builds the server's private environment: the Python extension's interpreter when
 * there is one, else `python3`, else `python` on PATH; the first that is 3.10 or newer and can
 * make a virtual environment wins.
 *
 * Free of VS Code: the interpreter of the Python extension comes in as a path, programs are run
 * through `Run`, so the choice and its messages are unit tested with real and scripted Pythons.
 */

import { findOnPath, type Lookup } from './serverCommand.ts';

export const MIN_PYTHON: readonly [number, number] = [3, 10];

/** Prints what the choice needs; `-I` (isolated) so nothing of the current folder is imported. */
export const PROBE_ARGS = [
  '-I',
  '-c',
  [
    'import sys',
    'print(sys.executable)',
    'print("%d.%d.%d" % sys.version_info[:3])',
    'try:',
    '    import ensurepip, venv',
    '    print("venv")',
    'except ImportError:',
    '    print("no-venv")',
  ].join('\n'),
];

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; never throws (a missing program is a non-zero code). */
export type Run = (command: string, args: string[]) => Promise<RunResult>;

export interface Candidate {
  command: string;
  /** Where it came from, as the user would name it. */
  source: string;
}

export interface FoundPython {
  command: string;
  executable: string;
  version: string;
  source: string;
}

export type PythonChoice =
  | { ok: true; python: FoundPython; rejected: string[] }
  | { ok: false; message: string; rejected: string[] };

/** The Python extension's interpreter first, then python3 and python from PATH, each once. */
export function pythonCandidates(fromExtension: string | undefined, lookup: Lookup): Candidate[] {
  const out: Candidate[] = [];
  if (fromExtension !== undefined && fromExtension.trim() !== '') {
    out.push({ command: fromExtension, source: "the Python extension's interpreter" });
  }
  for (const name of ['python3', 'python']) {
    const found = findOnPath(name, lookup);
    if (found !== undefined && !out.some((c) => c.command === found)) {
      out.push({ command: found, source: `${name} on PATH` });
    }
  }
  return out;
}

export interface Probed {
  executable: string;
  version: [number, number, number];
  hasVenv: boolean;
}

/** The probe's three lines, or undefined when they are not what the probe prints. */
export function parseProbe(stdout: string): Probed | undefined {
  const lines = stdout.split(/\r?\n/).map((line) => line.trim());
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(lines[1] ?? '');
  if (lines[0] === undefined || lines[0] === '' || match === null) {
    return undefined;
  }
  const version: [number, number, number] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return { executable: lines[0], version, hasVenv: lines[2] === 'venv' };
}

export function isSupported(version: readonly number[]): boolean {
  const [major, minor] = version;
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

/** Tries the candidates in order; says for each rejected one why. */
export async function choosePython(candidates: Candidate[], run: Run): Promise<PythonChoice> {
  const rejected: string[] = [];
  for (const candidate of candidates) {
    const result = await run(candidate.command, PROBE_ARGS);
    const probed = result.code === 0 ? parseProbe(result.stdout) : undefined;
    if (probed === undefined) {
      const why = (result.stderr.trim().split('\n').pop() ?? '').slice(0, 200);
      rejected.push(
        `${candidate.command} (${candidate.source}) did not run${why ? `: ${why}` : ''}`,
      );
      continue;
    }
    const version = probed.version.join('.');
    if (!isSupported(probed.version)) {
      rejected.push(
        `${candidate.command} (${candidate.source}) is Python ${version}; qwen-lsp needs ${MIN_PYTHON.join('.')} or newer`,
      );
      continue;
    }
    if (!probed.hasVenv) {
      rejected.push(
        `${candidate.command} (${candidate.source}) is Python ${version} without its venv module ` +
          '(on Debian and Ubuntu: install the python3-venv package)',
      );
      continue;
    }
    return {
      ok: true,
      python: {
        command: candidate.command,
        executable: probed.executable,
        version,
        source: candidate.source,
      },
      rejected,
    };
  }
  const tried = rejected.length > 0 ? ` Tried: ${rejected.join('; ')}.` : '';
  return {
    ok: false,
    message:
      `qwen-lsp: no Python ${MIN_PYTHON.join('.')} or newer was found to install the server with ` +
      "(the Python extension's interpreter, python3 or python on PATH)." +
      tried,
    rejected,
  };
}
