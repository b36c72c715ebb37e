import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import {
  type Inspected,
  initializationOptions,
  serverKeys,
  serverSettings,
  userValue,
} from '../src/settings.ts';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const properties: Record<string, unknown> = manifest.contributes.configuration.properties;

describe('serverKeys', () => {
  it('keeps the server schema keys and leaves the extension-only ones out', () => {
    const keys = serverKeys(properties);
    assert.ok(keys.includes('provider'));
    assert.ok(keys.includes('completion.maxTokens'));
    assert.ok(!keys.some((k) => k.startsWith('server.')), 'server.path is not a server setting');
    assert.ok(!keys.includes('apiKey'), 'keys never travel through settings');
  });
});

describe('userValue', () => {
  it('prefers the folder value, then the workspace value, then the user value', () => {
    assert.equal(userValue({ globalValue: 1, workspaceValue: 2, workspaceFolderValue: 3 }), 3);
    assert.equal(userValue({ globalValue: 1, workspaceValue: 2 }), 2);
    assert.equal(userValue({ globalValue: 1 }), 1);
  });

  it('treats a value left at the default, or null, as not set', () => {
    assert.equal(userValue({}), undefined);
    assert.equal(userValue(undefined), undefined);
    assert.equal(userValue({ globalValue: null }), undefined);
  });

  it('keeps false and 0, which are real choices', () => {
    assert.equal(userValue({ globalValue: false }), false);
    assert.equal(userValue({ workspaceValue: 0 }), 0);
  });
});

describe('serverSettings', () => {
  const set: Record<string, Inspected> = {
    provider: { globalValue: 'openai-compatible' },
    baseUrl: { workspaceValue: 'http://127.0.0.1:8000/v1' },
    'completion.maxTokens': { globalValue: 64 },
    'completion.enabled': { workspaceValue: false },
    'cache.dir': { globalValue: null },
  };

  it('sends only what the user set, nested in the server schema', () => {
    const tree = serverSettings(serverKeys(properties), (key) => set[key] ?? {});
    assert.deepEqual(tree, {
      provider: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:8000/v1',
      completion: { maxTokens: 64, enabled: false },
    });
  });

  it('sends nothing when nothing is set, so project files and QWEN_LSP_* still apply', () => {
    assert.deepEqual(
      serverSettings(serverKeys(properties), () => ({})),
      {},
    );
  });

  it('adds workspace trust to initializationOptions', () => {
    assert.deepEqual(initializationOptions({ provider: 'openai' }, true), {
      provider: 'openai',
      workspaceTrusted: true,
    });
  });
});
