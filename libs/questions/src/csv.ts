/** A field needs quotes when it holds a comma, a quote or a line break (RFC 4180); quotes double. */
function field(value: string | number | null | undefined): string {
  if (value === null || value === undefined) {
    return '';
  }
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV: CRLF line ends, a final line end, empty fields for nulls. */
export function toCsv(rows: Array<Array<string | number | null | undefined>>): string {
  return rows.map((r) => r.map(field).join(',') + '\r\n').join('');
}
