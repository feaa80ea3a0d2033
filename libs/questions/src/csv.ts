import { stringify } from 'csv-stringify/sync';

/**
 * RFC 4180 CSV: CRLF line ends, a final line end, empty fields for nulls, any line break
 * quoted (csv-stringify quotes only its record delimiter once one is set). A field that a
 * spreadsheet would run as a formula (leading =, +, -, @, tab or CR, or their full-width
 * forms) gets a leading single quote: names come from scraped pages (OWASP CSV injection).
 */
export function toCsv(rows: Array<Array<string | number | null | undefined>>): string {
  return stringify(rows, { record_delimiter: 'windows', quote_record_delimiter: true, escape_formulas: true });
}
