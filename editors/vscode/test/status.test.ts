import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatMoney, parseStatus, statusView } from '../src/status.ts';

const running = {
  enabled: true,
  busy: false,
  lastError: null,
  today: { requests: 12, cost: 0.0234, saved: 0.0071, currency: 'USD' },
  cacheHitRate: 0.375,
};

describe('parseStatus', () => {
  it('reads the notification the server sends', () => {
    const status = parseStatus(running);
    assert.equal(status.today.requests, 12);
    assert.equal(status.cacheHitRate, 0.375);
    assert.equal(status.lastError, null);
  });

  it('survives missing or wrong fields without throwing', () => {
    for (const raw of [
      null,
      undefined,
      'x',
      42,
      {},
      { today: 'none', cacheHitRate: 'high', busy: 'yes' },
    ]) {
      const status = parseStatus(raw);
      assert.equal(status.enabled, true);
      assert.equal(status.busy, false);
      assert.deepEqual(status.today, {
        requests: 0,
        cost: 0,
        saved: 0,
        currency: 'USD',
        cacheHits: undefined,
      });
      assert.equal(status.cacheHitRate, null);
    }
  });
});

describe('formatMoney', () => {
  it('shows cents, and enough digits for amounts under a cent', () => {
    assert.equal(formatMoney(0, 'USD'), '$0.00');
    assert.equal(formatMoney(1.5, 'CNY'), '¥1.50');
    assert.equal(formatMoney(0.0071, 'USD'), '$0.0071');
    assert.equal(formatMoney(0.000012, 'USD'), '$0.000012');
    assert.equal(formatMoney(2, 'GBP'), '2.00 GBP');
  });
});

describe('statusView', () => {
  it("shows today's cost and savings while running", () => {
    const view = statusView('running', parseStatus(running));
    assert.equal(view.text, '$(sparkle) Qwen $0.02 · saved $0.0071');
    assert.match(view.tooltip, /12 paid requests/);
    assert.match(view.tooltip, /Cache hit rate:\*\* 38%/);
    assert.equal(view.severity, 'normal');
  });

  it('spins while the model is asked', () => {
    assert.match(
      statusView('running', parseStatus({ ...running, busy: true })).text,
      /^\$\(loading~spin\)/,
    );
  });

  it('says off when completions are toggled off', () => {
    const view = statusView('running', parseStatus({ ...running, enabled: false }));
    assert.equal(view.text, '$(circle-slash) Qwen off');
    assert.match(view.tooltip, /\*\*off\*\*/);
  });

  it('warns with the last error in the tooltip', () => {
    const view = statusView(
      'running',
      parseStatus({ ...running, lastError: 'no API key for dashscope' }),
    );
    assert.equal(view.severity, 'warning');
    assert.match(view.text, /^\$\(warning\)/);
    assert.match(view.tooltip, /no API key for dashscope/);
  });

  it('shows the problem when the server is missing or crashed', () => {
    const missing = statusView(
      'missing',
      undefined,
      'qwen-lsp: the language server was not found.',
    );
    assert.equal(missing.severity, 'error');
    assert.match(missing.tooltip, /not found/);
    assert.equal(statusView('crashed').severity, 'error');
    assert.match(statusView('starting').text, /loading~spin/);
  });
});
