import { parse } from 'csv-parse/sync';
import { toCsv } from './csv';

describe('toCsv', () => {
  it('is RFC 4180: CRLF line ends, a final one, quotes doubled, empty fields for nulls', () => {
    expect(toCsv([['a', 'b,c', 'say "hi"', null, undefined, 3]])).toBe('a,"b,c","say ""hi""",,,3\r\n');
    expect(toCsv([['line\nbreak']])).toBe('"line\nbreak"\r\n');
  });

  // Names come from scraped pages: a spreadsheet must not run one as a formula (OWASP CSV injection).
  it.each([
    ['=HYPERLINK("https://evil.example","click")'],
    ['+1+1'],
    ['-2+3'],
    ['@SUM(A1:A2)'],
    ['\t=1'],
    ['\r=1'],
    ['\uff1d1+1'],
  ])('a name starting a formula is text: %j', (name) => {
    const text = toCsv([['org', name, 'US']]);
    const [[, field]] = parse(text, { relax_quotes: true }) as string[][];
    expect(field).toBe(`'${name}`);
  });

  it('leaves other names as they are', () => {
    expect(toCsv([['org', 'Acme = Co', "O'Brien"]])).toBe("org,Acme = Co,O'Brien\r\n");
  });
});
