import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  type Bundle,
  findBundle,
  install,
  installSteps,
  privateLayout,
  privateState,
  readInstalled,
  wheelVersion,
} from '../src/privateServer.ts';
import type { Run } from '../src/python.ts';

/**
 * Writes a wheel named like the real one whose `qwen-lsp` script prints its version: enough for
 * pip to install it, with no package index, exactly as it installs the real wheel.
 */
const MAKE_WHEEL = `
import base64, hashlib, sys, zipfile
out, version = sys.argv[1], sys.argv[2]
info = f"qwen_lsp-{version}.dist-info"
files = {
    "qwen_lsp_stub.py": f"def main():\\n    print('qwen-lsp {version}')\\n",
    f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: qwen-lsp\\nVersion: {version}\\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    f"{info}/entry_points.txt": "[console_scripts]\\nqwen-lsp = qwen_lsp_stub:main\\n",
}
record = []
with zipfile.ZipFile(out, "w") as z:
    for name, text in files.items():
        data = text.encode()
        z.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    z.writestr(f"{info}/RECORD", "\\n".join(record) + "\\n")
`;

/** An unpacked extension carrying a stub server wheel of `version` (and an empty wheels dir). */
function extensionWith(root: string, version: string): string {
  const dir = path.join(root, `extension-${version}`);
  fs.mkdirSync(path.join(dir, 'server', 'wheels'), { recursive: true });
  const wheel = path.join(dir, 'server', `qwen_lsp-${version}-py3-none-any.whl`);
  const made = spawnSync('python3', ['-c', MAKE_WHEEL, wheel, version], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  return dir;
}

const run: Run = (command, args) =>
  new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PIP_NO_INDEX: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('error', (e) => resolve({ code: -1, stdout, stderr: String(e) }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

describe('the bundled wheel', () => {
  it('reads the version from the wheel file name', () => {
    assert.equal(wheelVersion('qwen_lsp-0.1.0-py3-none-any.whl'), '0.1.0');
    assert.equal(wheelVersion('/x/server/qwen_lsp-1.2.3.dev4-py3-none-any.whl'), '1.2.3.dev4');
    assert.equal(wheelVersion('pygls-2.1.1-py3-none-any.whl'), undefined);
    assert.equal(wheelVersion('qwen_lsp-0.1.0.tar.gz'), undefined);
  });

  it('finds no bundle in an extension built without one, or with two wheels', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen-lsp-bundle-'));
    try {
      assert.equal(findBundle(dir), undefined);
      fs.mkdirSync(path.join(dir, 'server'));
      fs.writeFileSync(path.join(dir, 'server', 'qwen_lsp-0.1.0-py3-none-any.whl'), 'a');
      const one = findBundle(dir);
      assert.equal(one?.version, '0.1.0');
      assert.equal(one?.wheelsDir, undefined, 'no wheels folder: pip may use an index');
      fs.writeFileSync(path.join(dir, 'server', 'qwen_lsp-0.2.0-py3-none-any.whl'), 'b');
      assert.equal(findBundle(dir), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('installSteps', () => {
  const layout = privateLayout('/store', 'linux');
  const online: Bundle = {
    wheel: '/ext/server/qwen_lsp-0.2.0-py3-none-any.whl',
    version: '0.2.0',
    sha256: 'x',
  };
  const offline: Bundle = { ...online, wheelsDir: '/ext/server/wheels' };

  it('makes a new environment with the chosen Python, then installs the wheel into it', () => {
    const steps = installSteps(layout, online, 'absent', '/usr/bin/python3.12');
    assert.deepEqual(steps[0].command, '/usr/bin/python3.12');
    assert.deepEqual(steps[0].args, ['-I', '-m', 'venv', '--clear', '/store/server/venv']);
    assert.equal(steps[1].command, '/store/server/venv/bin/python');
    assert.equal(steps[1].args.at(-1), online.wheel);
    assert.ok(!steps[1].args.includes('--no-index'));
  });

  it('uses no package index when the extension carries the dependency wheels', () => {
    const steps = installSteps(layout, offline, 'absent', '/usr/bin/python3');
    const args = steps[1].args;
    assert.ok(args.includes('--no-index'));
    assert.equal(args[args.indexOf('--find-links') + 1], '/ext/server/wheels');
  });

  it('updates in place: the new wheel over the old one, then its dependencies', () => {
    const steps = installSteps(layout, offline, 'outdated', undefined);
    assert.ok(steps.every((s) => s.command === '/store/server/venv/bin/python'));
    assert.ok(steps[0].args.includes('--force-reinstall') && steps[0].args.includes('--no-deps'));
    assert.ok(!steps[1].args.includes('--no-deps'));
    assert.ok(steps.every((s) => s.args.includes('--no-index')));
  });

  it('puts the executables in Scripts on Windows', () => {
    const win = privateLayout('C:\\store', 'win32');
    assert.match(win.server, /Scripts.qwen-lsp\.exe$/);
    assert.match(win.python, /Scripts.python\.exe$/);
  });
});

describe('install into a real private environment', () => {
  let root: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'qwen-lsp-private-'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('installs the carried server, and a newer extension updates it in the same environment', async () => {
    const layout = privateLayout(path.join(root, 'storage'), process.platform);
    const first = findBundle(extensionWith(root, '0.1.0'));
    assert.ok(first !== undefined && first.wheelsDir !== undefined);
    assert.equal(privateState(layout, first, isExecutable), 'absent');

    const titles: string[] = [];
    const done = await install(layout, first, 'absent', 'python3', run, (t) => titles.push(t));
    assert.deepEqual(done, { ok: true });
    assert.match(titles.join('\n'), /creating a private Python environment/);
    assert.equal(
      spawnSync(layout.server, [], { encoding: 'utf8' }).stdout.trim(),
      'qwen-lsp 0.1.0',
    );
    assert.equal(privateState(layout, first, isExecutable), 'current');
    assert.equal(readInstalled(layout)?.wheel, 'qwen_lsp-0.1.0-py3-none-any.whl');

    const second = findBundle(extensionWith(root, '0.2.0'));
    assert.ok(second !== undefined);
    assert.equal(privateState(layout, second, isExecutable), 'outdated');
    const venvBefore = fs.statSync(layout.python).ino;
    const updated = await install(layout, second, 'outdated', undefined, run, () => undefined);
    assert.deepEqual(updated, { ok: true });
    assert.equal(
      spawnSync(layout.server, [], { encoding: 'utf8' }).stdout.trim(),
      'qwen-lsp 0.2.0',
    );
    assert.equal(fs.statSync(layout.python).ino, venvBefore, 'the same environment, updated');
    assert.equal(privateState(layout, second, isExecutable), 'current');
  });

  it('reports a failed install and keeps what worked, so the next start tries again', async () => {
    // Reuses the environment of the test above (0.2.0 installed): no second, slow venv.
    const layout = privateLayout(path.join(root, 'storage'), process.platform);
    const broken = findBundle(extensionWith(root, '0.3.0'));
    assert.ok(broken !== undefined);
    fs.writeFileSync(broken.wheel, 'not a zip file');
    broken.sha256 = 'another';
    assert.equal(privateState(layout, broken, isExecutable), 'outdated');
    const result = await install(layout, broken, 'outdated', undefined, run, () => undefined);
    assert.equal(result.ok, false);
    assert.match(
      !result.ok ? result.message : '',
      /updating the server to qwen-lsp 0\.3\.0 failed/,
    );
    assert.equal(readInstalled(layout)?.wheel, 'qwen_lsp-0.2.0-py3-none-any.whl');
    assert.equal(privateState(layout, broken, isExecutable), 'outdated');

    // No Python to make a new environment with: the first step fails, nothing is marked.
    const fresh = privateLayout(path.join(root, 'fresh'), process.platform);
    const missing = await install(
      fresh,
      broken,
      'absent',
      path.join(root, 'no-python'),
      run,
      () => undefined,
    );
    assert.equal(missing.ok, false);
    assert.match(
      !missing.ok ? missing.message : '',
      /creating a private Python environment failed/,
    );
    assert.equal(privateState(fresh, broken, isExecutable), 'absent');
  });
});
