import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDefined,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  registerDecorator,
  buildMessage,
  ValidateBy,
  ValidateIf,
  ValidateNested,
  ValidationArguments,
  ValidationOptions,
} from 'class-validator';
import { COUNTRY_CODES, CURRENCY_CODES } from './iso';
import { SLUG } from './streams';
import { timestampProblem } from './timestamp';
import { inputDateProblem } from './valid-date';

/** YYYY, YYYY-MM or YYYY-MM-DD with a real calendar day in MIN_YEAR..maxYear(); the message says what is wrong. */
export function IsValidDate() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isValidDate',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => inputDateProblem(value) === null,
        defaultMessage: (args?: ValidationArguments) => inputDateProblem(args?.value) ?? 'invalid date',
      },
    });
}

/** An ISO 8601 timestamp with a zone whose every field exists (no rollover); see timestampProblem. */
export function IsTimestamp() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isTimestamp',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => timestampProblem(value) === null,
        defaultMessage: (args?: ValidationArguments) => timestampProblem(args?.value) ?? 'invalid timestamp',
      },
    });
}

// Spaces of every kind, control and format characters (zero-width, direction marks, BOM).
const VISIBLE = /[^\s\p{Z}\p{Cc}\p{Cf}]/u;

/**
 * A string with at least one visible character: a name, reason or note of only spaces or
 * invisible marks says nothing. Non-strings are left to IsString.
 */
export function HasText(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'hasText',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || VISIBLE.test(value),
        defaultMessage: buildMessage((each) => `${each}must contain a visible character, not only spaces or invisible marks`),
      },
    },
    options,
  );
}

export const IsSlug = () =>
  Matches(SLUG, { message: 'must be a slug: lowercase letters, digits and dashes, 1-63 characters, not starting with a dash' });

export const IsHttpUrl = () =>
  IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'must be an http(s) URL' });

export class SourceDto {
  @ApiProperty({ example: 'https://newsroom.ibm.com/2023-12-04-IBM-and-Meta-Launch-the-AI-Alliance', maxLength: 2048 })
  @IsHttpUrl()
  @Length(1, 2048)
  url!: string;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  @HasText()
  title?: string;

  @ApiPropertyOptional({ example: '2023-12-05', description: 'YYYY, YYYY-MM or YYYY-MM-DD' })
  @IsOptional()
  @IsValidDate()
  publishedOn?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  @HasText()
  excerpt?: string;
}

/**
 * The `source` of a fact: one object (an array of sources, even of one, is refused rather
 * than stored as {"0": ...}). Required where API.md requires a url (joins, leaves,
 * commitments); elsewhere it may be left out, but not sent as null. The url is required
 * inside every source, so no provenance is ever empty.
 */
export function SourceField(options: { required: boolean }) {
  const decorators: PropertyDecorator[] = [
    options.required ? ApiProperty({ type: SourceDto }) : ApiPropertyOptional({ type: SourceDto }),
    // Optional means absent: null is validated (and refused) like any other non-object.
    options.required ? IsDefined() : ValidateIf((_object: object, value: unknown) => value !== undefined),
    IsObject({ message: 'must be an object {url, title?, publishedOn?, excerpt?}, not an array, null or a scalar' }),
    ValidateNested(),
    Type(() => SourceDto),
  ];
  return (target: object, propertyName: string) => decorators.forEach((decorate) => decorate(target, propertyName));
}

export interface Source {
  url: string;
  title?: string;
  publishedOn?: string;
  excerpt?: string;
}

/** Drops undefined keys so event payloads stay minimal and stable for hashing. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export const IsCountryCode = () =>
  registerDecorator_({
    name: 'isCountryCode',
    validate: (v) => typeof v === 'string' && COUNTRY_CODES.has(v),
    message: 'must be an ISO 3166-1 alpha-2 country code in upper case, such as DE or US',
  });

export const IsCurrencyCode = () =>
  registerDecorator_({
    name: 'isCurrencyCode',
    validate: (v) => typeof v === 'string' && CURRENCY_CODES.has(v),
    message: 'must be an ISO 4217 currency code in upper case, such as EUR or USD',
  });

/** A positive decimal string with at most 4 decimals, e.g. "6500000" or "1250.50". */
export const IsAmount = () =>
  registerDecorator_({
    name: 'isAmount',
    validate: (v) => typeof v === 'string' && /^(0|[1-9]\d{0,17})(\.\d{1,4})?$/.test(v) && Number(v) > 0,
    message: 'must be a positive decimal string such as "6500000" or "1250.50" (no exponent, up to 4 decimals)',
  });

function registerDecorator_(spec: { name: string; validate: (value: unknown) => boolean; message: string }) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: spec.name,
      target: target.constructor,
      propertyName,
      validator: { validate: spec.validate, defaultMessage: () => spec.message },
    });
}
