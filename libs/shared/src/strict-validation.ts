import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError, ValidatorOptions } from 'class-validator';

export interface FieldError {
  field: string;
  message: string;
}

const OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};

const UNKNOWN = 'should not exist';
const MAX_DEPTH = 64;

const join = (prefix: string, key: string) => (prefix ? `${prefix}.${key}` : key);

/**
 * class-validator's errors as one flat list of `{field, message}`, the field a dotted path.
 * Its messages start with the bare property name, which the path says better; the name is
 * cut off with string operations, since it is the client's (a key like `(.*.*)*\d` in a
 * pattern would pin the CPU).
 */
export function fieldErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = join(prefix, error.property);
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message: withoutProperty(message, error.property) }));
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

function withoutProperty(message: string, property: string): string {
  for (const lead of [`property ${property} `, `${property} `]) {
    if (message.startsWith(lead)) {
      return message.slice(lead.length);
    }
  }
  return message;
}

const known = new WeakMap<object, ReadonlySet<string>>();

/** The fields a DTO class declares (its own and inherited rules), or null for a plain object. */
function fieldsOf(type: unknown): ReadonlySet<string> | null {
  if (typeof type !== 'function' || type === Object) {
    return null;
  }
  let fields = known.get(type);
  if (!fields) {
    fields = new Set(getMetadataStorage().getTargetValidationMetadatas(type, '', false, false).map((m) => m.propertyName));
    known.set(type, fields);
  }
  return fields;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/**
 * Keys of the body as sent that its DTO does not declare, at every level the DTO validates.
 * class-validator alone misses keys named like `Object.prototype` members (`constructor`,
 * `hasOwnProperty`: it looks fields up in a plain object, where those are found), and
 * class-transformer drops them from the instance silently, so the raw body is compared with
 * the instance's classes: the instance says which class each level is, the body which keys
 * it has.
 */
export function unknownFields(raw: unknown, instance: unknown, prefix = '', depth = 0): FieldError[] {
  if (depth > MAX_DEPTH || !isObject(raw) || !isObject(instance)) {
    return [];
  }
  if (Array.isArray(raw)) {
    return Array.isArray(instance) ? raw.flatMap((item, i) => unknownFields(item, instance[i], join(prefix, String(i)), depth + 1)) : [];
  }
  const fields = fieldsOf(Object.getPrototypeOf(instance)?.constructor);
  if (!fields) {
    return [];
  }
  return Object.keys(raw).flatMap((key) =>
    fields.has(key) ? unknownFields(raw[key], instance[key], join(prefix, key), depth + 1) : [{ field: join(prefix, key), message: UNKNOWN }],
  );
}

/**
 * Keys class-transformer cannot be given: `__proto__` (query strings can carry one) would
 * replace the instance's prototype, and a `constructor` key in a plain object makes it throw.
 * No DTO declares either, so both are unknown fields wherever they are.
 */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor']);

/** The paths of the unsafe keys anywhere in the value. */
function unsafeKeys(value: unknown, prefix = '', depth = 0): string[] {
  if (depth > MAX_DEPTH || !isObject(value)) {
    return [];
  }
  return Object.keys(value).flatMap((key) => (UNSAFE_KEYS.has(key) ? [join(prefix, key)] : unsafeKeys(value[key], join(prefix, key), depth + 1)));
}

/**
 * Strict validation of a body or query object against its DTO: unknown fields refused (whatever
 * their name), nothing coerced. Returns the DTO instance and every problem found.
 */
export function validateStrict<T extends object>(type: new () => T, raw: object): { value: T; errors: FieldError[] } {
  const unsafe = unsafeKeys(raw);
  if (unsafe.length) {
    return { value: Object.create(type.prototype) as T, errors: unsafe.map((field) => ({ field, message: UNKNOWN })) };
  }
  const value = plainToInstance(type, raw, { enableImplicitConversion: false });
  const errors = [...fieldErrors(validateSync(value, OPTIONS)), ...unknownFields(raw, value)];
  const seen = new Set<string>();
  return {
    value,
    errors: errors.filter((e) => {
      const id = `${e.field}\u0000${e.message}`;
      return seen.has(id) ? false : (seen.add(id), true);
    }),
  };
}
