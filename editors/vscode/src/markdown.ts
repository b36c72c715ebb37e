/**
 * What the server's commands answer, as Markdown for VS Code's preview.
 *
 * Pure. `qwen-lsp.explain` answers Markdown text and `qwen-lsp.showStats` an object whose `text`
 * is the spend report; anything else is shown as JSON rather than dropped, so a newer server
 * never leaves the user with an empty page.
 */

import { formatMoney, formatPercent, type ServerStatus } from './status.ts';

const MARKDOWN_FIELDS = ['markdown', 'explanation', 'value', 'message'];

/**
 * Markdown to show for a command's answer: Markdown as it is; a `text` field is preformatted
 * plain text (the spend report's aligned columns), so it keeps its layout in a code block.
 */
export function asMarkdown(result: unknown): string {
  if (typeof result === 'string') {
    return result;
  }
  if (typeof result === 'object' && result !== null) {
    const obj = result as Record<string, unknown>;
    for (const field of MARKDOWN_FIELDS) {
      if (typeof obj[field] === 'string') {
        return obj[field] as string;
      }
    }
    if (typeof obj.text === 'string') {
      return '```text\n' + obj.text.replace(/\n+$/, '') + '\n```';
    }
  }
  if (result === null || result === undefined) {
    return '_The server had nothing to say._';
  }
  return '```json\n' + JSON.stringify(result, null, 2) + '\n```';
}

export function explanationPage(
  fileName: string,
  firstLine: number,
  lastLine: number,
  body: string,
): string {
  const where = firstLine === lastLine ? `line ${firstLine}` : `lines ${firstLine}-${lastLine}`;
  return `# Explanation of ${fileName}, ${where}\n\n${body.trim()}\n`;
}

/** The spend page when the server has no `qwen-lsp.showStats` command: today's figures only. */
export function statusPage(status: ServerStatus | undefined): string {
  if (status === undefined) {
    return '# qwen-lsp spend\n\nThe server has not reported any figures yet.\n';
  }
  const { today } = status;
  const rows = [
    '| today | |',
    '|---|---|',
    `| paid requests | ${today.requests} |`,
    `| spent | ${formatMoney(today.cost, today.currency)} |`,
    `| saved by the cache | ${formatMoney(today.saved, today.currency)} |`,
  ];
  if (status.cacheHitRate !== null) {
    rows.push(`| cache hit rate | ${formatPercent(status.cacheHitRate)} |`);
  }
  return `# qwen-lsp spend\n\n${rows.join('\n')}\n\nEvery day and model: \`qwen-lsp stats\` in a terminal.\n`;
}
