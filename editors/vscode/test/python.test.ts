import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

import {
  type Candidate,
  choosePython,
  isSupported,
  parseProbe,
  pythonCandidates,
  type Run,
  type RunResult,
} from '../src/python.ts';
import type { Lookup } from '../src/serverCommand.ts';

function lookup(executables: string[]): Lookup {
  return {
    env: { PATH: '/usr/local/bin:/usr/bin' },
    platform: 'linux',
    home: '/home/ana',
    isExecutable: (file) => executables.includes(file),
  };
}

/** A scripted Run: each command answers as a Python of that version would (or fails). */
function scripted(answers: Record<string, RunResult>): { run: Run; ran: string[] } {
  const ran: string[] = [];
  return {
    ran,
    run: async (command) => {
      ran.push(command);
      return answers[command] ?? { code: 127, stdout: '', stderr: `${command}: not found` };
    },
  };
}

function python(executable: string, version: string, venv = true): RunResult {
  return {
    code: 0,
    stdout: `${executable}\n${version}\n${venv ? 'venv' : 'no-venv'}\n`,
    stderr: '',
  };
}

/** Runs a real program, as the extension does. */
const realRun: Run = (command, args) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('error', (e) => resolve({ code: -1, stdout, stderr: String(e) }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });

describe('pythonCandidates', () => {
  it("puts the Python extension's interpreter first, then python3 and python on PATH", () => {
    const found = pythonCandidates(
      '/srv/app/.venv/bin/python',
      lookup(['/usr/bin/python3', '/usr/local/bin/python']),
    );
    assert.deepEqual(
      found.map((c) => c.command),
      ['/srv/app/.venv/bin/python', '/usr/bin/python3', '/usr/local/bin/python'],
    );
    assert.match(found[0].source, /Python extension/);
  });

  it('names each interpreter once, and nothing when there is none', () => {
    assert.deepEqual(
      pythonCandidates('/usr/bin/python3', lookup(['/usr/bin/python3'])).map((c) => c.command),
      ['/usr/bin/python3'],
    );
    assert.deepEqual(pythonCandidates(undefined, lookup([])), []);
    assert.deepEqual(pythonCandidates('  ', lookup([])), []);
  });
});

describe('parseProbe and isSupported', () => {
  it('reads the executable, the version and whether venv works', () => {
    assert.deepEqual(parseProbe('/usr/bin/python3.12\r\n3.12.3\r\nvenv\r\n'), {
      executable: '/usr/bin/python3.12',
      version: [3, 12, 3],
      hasVenv: true,
    });
    assert.equal(parseProbe('/usr/bin/python3\n3.11.2\nno-venv\n')?.hasVenv, false);
    assert.equal(parseProbe('Python was not found; run without arguments to install\n'), undefined);
    assert.equal(parseProbe(''), undefined);
  });

  it('accepts 3.10 and newer, refuses older', () => {
    assert.ok(isSupported([3, 10, 0]));
    assert.ok(isSupported([3, 13, 1]));
    assert.ok(isSupported([4, 0, 0]));
    assert.ok(!isSupported([3, 9, 18]));
    assert.ok(!isSupported([2, 7, 18]));
  });
});

describe('choosePython', () => {
  const candidates: Candidate[] = [
    { command: '/ext/python', source: "the Python extension's interpreter" },
    { command: '/usr/bin/python3', source: 'python3 on PATH' },
    { command: '/usr/bin/python', source: 'python on PATH' },
  ];

  it('takes the first candidate that is new enough, and says why the others were passed over', async () => {
    const { run, ran } = scripted({
      '/ext/python': python('/ext/python', '3.9.18'),
      '/usr/bin/python3': python('/usr/bin/python3.11', '3.11.2', false),
      '/usr/bin/python': python('/usr/bin/python3.13', '3.13.0'),
    });
    const choice = await choosePython(candidates, run);
    assert.ok(choice.ok);
    assert.equal(choice.python.executable, '/usr/bin/python3.13');
    assert.equal(choice.python.version, '3.13.0');
    assert.equal(choice.python.source, 'python on PATH');
    assert.deepEqual(ran, ['/ext/python', '/usr/bin/python3', '/usr/bin/python']);
    assert.match(choice.rejected[0], /Python 3\.9\.18; qwen-lsp needs 3\.10 or newer/);
    assert.match(choice.rejected[1], /without its venv module.*python3-venv/);
  });

  it("stops at the Python extension's interpreter when it will do", async () => {
    const { run, ran } = scripted({ '/ext/python': python('/ext/python', '3.10.13') });
    const choice = await choosePython(candidates, run);
    assert.ok(choice.ok && choice.python.command === '/ext/python');
    assert.deepEqual(ran, ['/ext/python']);
  });

  it('fails with every reason when none will do', async () => {
    const { run } = scripted({ '/usr/bin/python3': python('/usr/bin/python3', '3.8.18') });
    const choice = await choosePython(candidates, run);
    assert.ok(!choice.ok);
    assert.match(choice.message, /no Python 3\.10 or newer was found/);
    assert.match(choice.message, /\/ext\/python .*did not run: \/ext\/python: not found/);
    assert.match(choice.message, /3\.8\.18/);
    const none = await choosePython([], run);
    assert.ok(!none.ok && /no Python 3\.10/.test(none.message));
  });

  it('probes a real interpreter', async () => {
    const choice = await choosePython([{ command: 'python3', source: 'python3 on PATH' }], realRun);
    assert.ok(choice.ok, choice.ok ? '' : choice.message);
    assert.match(choice.python.version, /^3\.\d+\.\d+$/);
    assert.ok(choice.python.executable.length > 0);
  });
});
