import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { describeKeyEnvironment, keyEnvironment, secretName, validateKey } from '../src/apiKeys.ts';

describe('keyEnvironment', () => {
  const stored = { dashscope: 'sk-ds', openai: 'sk-oa', 'openai-compatible': 'sk-local' };

  it('hands each stored key to the variable its provider reads', () => {
    assert.deepEqual(keyEnvironment('dashscope', stored), {
      DASHSCOPE_API_KEY: 'sk-ds',
      OPENAI_API_KEY: 'sk-oa',
    });
  });

  it('sets QWEN_LSP_API_KEY only for an OpenAI-compatible provider, since it wins over every other key', () => {
    assert.deepEqual(keyEnvironment('openai-compatible', stored), {
      DASHSCOPE_API_KEY: 'sk-ds',
      OPENAI_API_KEY: 'sk-oa',
      QWEN_LSP_API_KEY: 'sk-local',
    });
    assert.equal(keyEnvironment('openai', stored).QWEN_LSP_API_KEY, undefined);
  });

  it('adds nothing for keys that are not stored', () => {
    assert.deepEqual(keyEnvironment('dashscope', {}), {});
  });

  it('describes the variables without their values', () => {
    const text = describeKeyEnvironment(keyEnvironment('dashscope', stored));
    assert.equal(text, 'keys from VS Code in DASHSCOPE_API_KEY, OPENAI_API_KEY');
    assert.ok(!text.includes('sk-'));
  });
});

describe('validateKey', () => {
  it('refuses empty keys and keys with spaces', () => {
    assert.notEqual(validateKey('   '), undefined);
    assert.notEqual(validateKey('sk-a b'), undefined);
    assert.equal(validateKey('sk-abc123'), undefined);
  });

  it('keeps one secret per provider', () => {
    assert.notEqual(secretName('dashscope'), secretName('openai'));
  });
});
