import type { DataFrame } from 'danfojs-node';
import * as dfd from 'danfojs-node';
import { displayBundle } from './notebook';

/**
 * danfojs has no HTML output; notebooks need tables as HTML. Built from dfd.toJSON so it works for any frame.
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Shown for a missing value (null, or NaN such as a class with no test video): a dash, not a blank or 'NaN'. */
export const MISSING_CELL = '—';

function formatCell(value: unknown, digits: number): string {
  if (value === null || value === undefined || Number.isNaN(value)) return MISSING_CELL;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(digits);
  return String(value);
}

export interface TableOptions {
  /** Rows shown; the rest are summarised in a footer. */
  maxRows?: number;
  digits?: number;
  caption?: string;
}

function rowsOf(df: DataFrame): Record<string, unknown>[] {
  return dfd.toJSON(df, { format: 'column' }) as Record<string, unknown>[];
}

export function dataFrameToHtml(df: DataFrame, options: TableOptions = {}): string {
  const { maxRows = 50, digits = 3, caption } = options;
  const columns = df.columns.map(String);
  const rows = rowsOf(df);
  const shown = rows.slice(0, maxRows);
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = shown
    .map((r) => `<tr>${columns.map((c) => `<td>${escapeHtml(formatCell(r[c], digits))}</td>`).join('')}</tr>`)
    .join('\n');
  const more = rows.length > shown.length ? `<tfoot><tr><td colspan="${columns.length}">... ${rows.length - shown.length} more rows</td></tr></tfoot>` : '';
  const cap = caption ? `<caption>${escapeHtml(caption)}</caption>` : '';
  return `<table class="dataframe">${cap}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody>${more}</table>`;
}

export function dataFrameToText(df: DataFrame, options: TableOptions = {}): string {
  const { maxRows = 50, digits = 3 } = options;
  const columns = df.columns.map(String);
  const rows = rowsOf(df).slice(0, maxRows).map((r) => columns.map((c) => formatCell(r[c], digits)));
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Shows a DataFrame as an HTML table in a notebook (text in a terminal). */
export function showTable(df: DataFrame, options: TableOptions = {}): void {
  displayBundle({ 'text/html': dataFrameToHtml(df, options), 'text/plain': dataFrameToText(df, options) });
}
