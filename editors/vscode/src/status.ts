/**
 * The status bar's content: what the `qwen-lsp/status` notification says, as text and tooltip.
 *
 * Pure: the notification is parsed defensively (a newer or older server may send more or fewer
 * fields, and nothing it sends may break the status bar), and the view is plain data that
 * `statusBar.ts` copies onto VS Code's StatusBarItem.
 */

export const STATUS_NOTIFICATION = 'qwen-lsp/status';

export interface Today {
  requests: number;
  cost: number;
  saved: number;
  currency: string;
  cacheHits?: number;
}

export interface ServerStatus {
  enabled: boolean;
  busy: boolean;
  lastError: string | null;
  today: Today;
  cacheHitRate: number | null;
}

/** Where the server process is; `status` is the last notification while it runs. */
export type Phase = 'starting' | 'running' | 'stopped' | 'missing' | 'crashed';

export interface StatusView {
  text: string;
  tooltip: string; // Markdown
  severity: 'normal' | 'warning' | 'error';
}

function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

export function parseStatus(raw: unknown): ServerStatus {
  const obj = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const today = (typeof obj.today === 'object' && obj.today !== null ? obj.today : {}) as Record<
    string,
    unknown
  >;
  const lastError = obj.lastError;
  const rate = obj.cacheHitRate;
  return {
    enabled: obj.enabled !== false,
    busy: obj.busy === true,
    lastError: typeof lastError === 'string' && lastError !== '' ? lastError : null,
    today: {
      requests: num(today.requests),
      cost: num(today.cost),
      saved: num(today.saved),
      currency: typeof today.currency === 'string' && today.currency ? today.currency : 'USD',
      cacheHits: typeof today.cacheHits === 'number' ? today.cacheHits : undefined,
    },
    cacheHitRate: typeof rate === 'number' && Number.isFinite(rate) ? rate : null,
  };
}

const SYMBOLS: Record<string, string> = { USD: '$', CNY: '¥', EUR: '€' };

/** `$0.02`, `¥1.20`; amounts under a cent keep enough digits not to read as zero. */
export function formatMoney(amount: number, currency: string): string {
  const symbol = SYMBOLS[currency];
  const abs = Math.abs(amount);
  const digits = abs === 0 || abs >= 0.01 ? 2 : abs >= 0.0001 ? 4 : 6;
  const value = amount.toFixed(digits);
  return symbol ? `${symbol}${value}` : `${value} ${currency}`;
}

export function formatPercent(rate: number): string {
  return `${Math.round(rate * 100)}%`;
}

function details(status: ServerStatus): string[] {
  const { today } = status;
  const lines = [
    `**Today:** ${today.requests} paid request${today.requests === 1 ? '' : 's'}, ` +
      `spent ${formatMoney(today.cost, today.currency)}, ` +
      `saved ${formatMoney(today.saved, today.currency)} by the cache`,
  ];
  if (status.cacheHitRate !== null) {
    lines.push(`**Cache hit rate:** ${formatPercent(status.cacheHitRate)}`);
  }
  return lines;
}

const CLICK = 'Click for the menu: toggle completions, spend, log, restart.';

export function statusView(phase: Phase, status?: ServerStatus, problem?: string): StatusView {
  switch (phase) {
    case 'starting':
      return {
        text: '$(loading~spin) Qwen',
        tooltip: 'qwen-lsp: starting the server…',
        severity: 'normal',
      };
    case 'missing':
      return {
        text: '$(warning) Qwen: no server',
        tooltip: `${problem ?? 'qwen-lsp: the server was not found.'}\n\n${CLICK}`,
        severity: 'error',
      };
    case 'crashed':
      return {
        text: '$(error) Qwen: stopped',
        tooltip: `${problem ?? 'qwen-lsp: the server stopped.'}\n\n${CLICK}`,
        severity: 'error',
      };
    case 'stopped':
      return {
        text: '$(debug-disconnect) Qwen',
        tooltip: `qwen-lsp: the server is not running.\n\n${CLICK}`,
        severity: 'normal',
      };
    case 'running':
      break;
  }
  if (status === undefined) {
    return {
      text: '$(sparkle) Qwen',
      tooltip: `qwen-lsp: running.\n\n${CLICK}`,
      severity: 'normal',
    };
  }
  const money = `${formatMoney(status.today.cost, status.today.currency)}`;
  const saved =
    status.today.saved > 0
      ? ` · saved ${formatMoney(status.today.saved, status.today.currency)}`
      : '';
  const lines = details(status);
  if (status.lastError) {
    return {
      text: `$(warning) Qwen ${money}`,
      tooltip: [`**qwen-lsp: ${status.lastError}**`, ...lines, CLICK].join('\n\n'),
      severity: 'warning',
    };
  }
  if (!status.enabled) {
    return {
      text: '$(circle-slash) Qwen off',
      tooltip: ['qwen-lsp: inline completions are **off**.', ...lines, CLICK].join('\n\n'),
      severity: 'normal',
    };
  }
  const icon = status.busy ? '$(loading~spin)' : '$(sparkle)';
  return {
    text: `${icon} Qwen ${money}${saved}`,
    tooltip: [
      `qwen-lsp: inline completions are **on**${status.busy ? ', asking the model…' : '.'}`,
      ...lines,
      CLICK,
    ].join('\n\n'),
    severity: 'normal',
  };
}
