/**
 * API keys: where each provider's key is kept in VS Code's SecretStorage, and how the stored keys
 * reach the server, as environment variables of its process (never settings.json, never the
 * protocol, never a log line).
 *
 * The server reads `DASHSCOPE_API_KEY` for DashScope and `OPENAI_API_KEY` for OpenAI (and for an
 * OpenAI-compatible endpoint that is not DashScope); `QWEN_LSP_API_KEY` wins over both, so it is
 * set only for the provider it belongs to: a self-hosted server's key.
 */

export interface ProviderKey {
  provider: string;
  label: string;
  envVar: string;
  hint: string;
}

export const PROVIDER_KEYS: readonly ProviderKey[] = [
  {
    provider: 'dashscope',
    label: 'DashScope (Qwen-Coder)',
    envVar: 'DASHSCOPE_API_KEY',
    hint: 'a key from the Model Studio console of your region (keys are per region)',
  },
  {
    provider: 'openai',
    label: 'OpenAI (GPT)',
    envVar: 'OPENAI_API_KEY',
    hint: 'a key from platform.openai.com',
  },
  {
    provider: 'openai-compatible',
    label: 'OpenAI-compatible server (vLLM, Ollama, llama.cpp, …)',
    envVar: 'QWEN_LSP_API_KEY',
    hint: 'the key your server expects; a server on this machine usually needs none',
  },
];

export function secretName(provider: string): string {
  return `qwen-lsp.apiKey.${provider}`;
}

/** Why a typed key cannot be right, or undefined when it looks usable. */
export function validateKey(value: string): string | undefined {
  if (value.trim() === '') {
    return 'The key is empty.';
  }
  if (/\s/.test(value.trim())) {
    return 'A key has no spaces or line breaks.';
  }
  return undefined;
}

/**
 * The variables to add to the server's environment for the keys stored in VS Code.
 * A stored key wins over the same variable inherited from VS Code's own environment.
 */
export function keyEnvironment(
  provider: string,
  stored: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of PROVIDER_KEYS) {
    const key = stored[entry.provider];
    if (!key) {
      continue;
    }
    if (entry.envVar === 'QWEN_LSP_API_KEY' && provider !== entry.provider) {
      continue;
    }
    env[entry.envVar] = key;
  }
  return env;
}

/** The environment variable names `keyEnvironment` set, for logs that must not show values. */
export function describeKeyEnvironment(env: Readonly<Record<string, string>>): string {
  const names = Object.keys(env).sort();
  return names.length === 0 ? 'no key from VS Code' : `keys from VS Code in ${names.join(', ')}`;
}
