import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { type Lookup, resolveServerCommand } from '../src/serverCommand.ts';

function lookup(executables: string[], extra: Partial<Lookup> = {}): Lookup {
  return {
    env: { PATH: '/usr/local/bin:/usr/bin' },
    platform: 'linux',
    home: '/home/ana',
    workspaceFolder: '/srv/app',
    isExecutable: (file) => executables.includes(file),
    ...extra,
  };
}

describe('resolveServerCommand', () => {
  it('finds qwen-lsp on PATH when the setting is empty, and appends --stdio', () => {
    const found = resolveServerCommand('', lookup(['/usr/bin/qwen-lsp']));
    assert.deepEqual(found, {
      ok: true,
      command: '/usr/bin/qwen-lsp',
      args: ['--stdio'],
      source: 'PATH',
    });
  });

  it('takes the first PATH entry that has it', () => {
    const found = resolveServerCommand(
      undefined,
      lookup(['/usr/bin/qwen-lsp', '/usr/local/bin/qwen-lsp']),
    );
    assert.equal(found.ok && found.command, '/usr/local/bin/qwen-lsp');
  });

  it('prefers the setting over PATH', () => {
    const found = resolveServerCommand(
      '/opt/venv/bin/qwen-lsp',
      lookup(['/usr/bin/qwen-lsp', '/opt/venv/bin/qwen-lsp']),
    );
    assert.deepEqual(found, {
      ok: true,
      command: '/opt/venv/bin/qwen-lsp',
      args: ['--stdio'],
      source: 'setting',
    });
  });

  it('expands ~ and ${workspaceFolder}, and resolves a relative path in the workspace', () => {
    const l = lookup(['/home/ana/.venv/bin/qwen-lsp', '/srv/app/.venv/bin/qwen-lsp']);
    assert.equal(resolveServerCommand('~/.venv/bin/qwen-lsp', l).ok, true);
    const fromFolder = resolveServerCommand('${workspaceFolder}/.venv/bin/qwen-lsp', l);
    assert.equal(fromFolder.ok && fromFolder.command, '/srv/app/.venv/bin/qwen-lsp');
    const relative = resolveServerCommand('.venv/bin/qwen-lsp', l);
    assert.equal(relative.ok && relative.command, '/srv/app/.venv/bin/qwen-lsp');
  });

  it('looks a bare command name in the setting up on PATH', () => {
    const found = resolveServerCommand('qwen-lsp-dev', lookup(['/usr/bin/qwen-lsp-dev']));
    assert.equal(found.ok && found.command, '/usr/bin/qwen-lsp-dev');
  });

  it('says how to install it when nothing is found, from sources that exist', () => {
    const missing = resolveServerCommand('', lookup([]));
    assert.equal(missing.ok, false);
    const message = !missing.ok ? missing.message : '';
    assert.match(message, /not found.*from a clone.*pipx install \.`.*qwen-lsp\.server\.path/s);
    // qwen-lsp is on no package index: installing it by name cannot work.
    assert.doesNotMatch(message, /install qwen-lsp/);
    assert.equal(!missing.ok && missing.settingIsWrong, false);
  });

  it('names the bad setting rather than falling back to PATH', () => {
    const missing = resolveServerCommand('/nowhere/qwen-lsp', lookup(['/usr/bin/qwen-lsp']));
    assert.equal(missing.ok, false);
    assert.match(
      !missing.ok ? missing.message : '',
      /server\.path` points at \/nowhere\/qwen-lsp, which is not an executable/,
    );
    // The setting must be fixed: installing a private server would not be used.
    assert.equal(!missing.ok && missing.settingIsWrong, true);
    const bareName = resolveServerCommand('qwen-lsp-dev', lookup(['/usr/bin/qwen-lsp']));
    assert.equal(!bareName.ok && bareName.settingIsWrong, true);
  });

  it('uses PATHEXT on Windows', () => {
    const l = lookup(['C:\\Python\\Scripts\\qwen-lsp.exe'], {
      platform: 'win32',
      env: { Path: 'C:\\Windows;C:\\Python\\Scripts', PATHEXT: '.COM;.EXE;.BAT' },
    });
    const found = resolveServerCommand('', l);
    assert.equal(found.ok && found.command, 'C:\\Python\\Scripts\\qwen-lsp.exe');
  });
});
