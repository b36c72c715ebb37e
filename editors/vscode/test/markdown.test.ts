import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { asMarkdown, explanationPage, statusPage } from '../src/markdown.ts';
import { parseStatus } from '../src/status.ts';

describe('asMarkdown', () => {
  it('takes Markdown text as it is, or from an object carrying it', () => {
    assert.equal(asMarkdown('**sum** of a and b'), '**sum** of a and b');
    assert.equal(asMarkdown({ markdown: '# hi' }), '# hi');
    assert.equal(asMarkdown({ explanation: 'adds' }), 'adds');
  });

  it('keeps a plain-text report aligned in a code block', () => {
    const report = 'day         requests  cost\n2026-11-28         3  $0.01\n';
    assert.equal(asMarkdown({ text: report, days: [] }), '```text\n' + report.trimEnd() + '\n```');
  });

  it('shows anything else as JSON rather than an empty page', () => {
    assert.match(asMarkdown({ total: 3 }), /```json\n\{\n {2}"total": 3\n\}\n```/);
    assert.match(asMarkdown(null), /nothing to say/);
  });
});

describe('pages', () => {
  it('titles an explanation with the file and lines', () => {
    assert.match(
      explanationPage('calc.py', 3, 3, 'adds'),
      /^# Explanation of calc\.py, line 3\n\nadds\n$/,
    );
    assert.match(explanationPage('calc.py', 3, 9, 'x'), /lines 3-9/);
  });

  it("lists today's figures when the server has no stats command", () => {
    const page = statusPage(
      parseStatus({
        today: { requests: 2, cost: 0.5, saved: 0.25, currency: 'CNY' },
        cacheHitRate: 0.5,
      }),
    );
    assert.match(page, /\| paid requests \| 2 \|/);
    assert.match(page, /\| spent \| ¥0\.50 \|/);
    assert.match(page, /\| cache hit rate \| 50% \|/);
    assert.match(statusPage(undefined), /not reported/);
  });
});
