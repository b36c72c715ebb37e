import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const commands: string[] = manifest.contributes.commands.map((c: { command: string }) => c.command);
const properties: Record<string, { default?: unknown }> =
  manifest.contributes.configuration.properties;
const source = ['commands.ts', 'statusBar.ts']
  .map((file) => readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8'))
  .join('\n');

describe('package.json', () => {
  it('registers in code every command it contributes, and contributes every command it registers', () => {
    for (const command of commands) {
      assert.ok(
        source.includes(`register('${command}'`),
        `${command} is contributed but never registered`,
      );
    }
    const registered = [...source.matchAll(/register\('([^']+)'/g)].map((m) => m[1]);
    assert.deepEqual([...registered].sort(), [...commands].sort());
  });

  it("uses command ids the server's own commands cannot collide with", () => {
    // vscode-languageclient registers the server's executeCommand commands (qwen-lsp.*) itself.
    assert.ok(commands.every((c) => c.startsWith('qwen.')));
  });

  it('only refers to contributed commands in menus', () => {
    for (const entries of Object.values(manifest.contributes.menus) as { command: string }[][]) {
      for (const entry of entries) {
        assert.ok(commands.includes(entry.command), entry.command);
      }
    }
  });

  it('keeps every setting under qwen-lsp.*, with a default and a description, and no API key', () => {
    for (const [key, schema] of Object.entries(properties)) {
      assert.ok(key.startsWith('qwen-lsp.'), key);
      assert.ok('default' in schema, `${key} has no default`);
      assert.ok(
        'markdownDescription' in schema || 'description' in schema,
        `${key} has no description`,
      );
      assert.ok(!/apikey|secret|password/i.test(key), `${key} looks like a secret`);
    }
  });

  it('lets an untrusted folder choose neither the server command nor where code is sent', () => {
    const restricted: string[] = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
    for (const key of ['qwen-lsp.server.path', 'qwen-lsp.provider', 'qwen-lsp.baseUrl']) {
      assert.ok(restricted.includes(key), key);
      assert.ok(key in properties, key);
    }
  });

  it('pins vscode-languageclient 11 (9.0.1 sends malformed inlineCompletion params)', () => {
    assert.match(manifest.dependencies['vscode-languageclient'], /^11\.\d+\.\d+$/);
  });
});
