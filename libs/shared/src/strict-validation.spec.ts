import { Type } from 'class-transformer';
import { IsOptional, IsString, ValidateNested } from 'class-validator';
import { fieldErrors, validateStrict } from './strict-validation';

class Inner {
  @IsString()
  url!: string;
}

class Outer {
  @IsString()
  name!: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => Inner)
  inner?: Inner;
}

describe('strict validation', () => {
  it('names fields whose names are regex syntax without building a pattern from them', () => {
    const started = Date.now();
    for (const key of ['(', '[', '*', '\\', '(.*.*)*\\d', '(a+)+$']) {
      const { errors } = validateStrict(Outer, { name: 'x', [key]: 1, inner: { url: 'u', [key]: 2 } });
      expect(errors).toEqual([
        { field: key, message: 'should not exist' },
        { field: `inner.${key}`, message: 'should not exist' },
      ]);
    }
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('refuses keys named like Object.prototype members, at every level', () => {
    for (const key of ['constructor', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'prototype']) {
      const { errors } = validateStrict(Outer, JSON.parse(`{"name":"x","${key}":1,"inner":{"url":"u","${key}":2}}`));
      expect({ key, fields: errors.map((e) => e.field).sort() }).toEqual({ key, fields: [key, `inner.${key}`].sort() });
    }
  });

  it('refuses a constructor key in a plain object inside the body, which class-transformer cannot take', () => {
    class Loose {
      @IsOptional()
      things?: unknown[];
    }
    const { errors } = validateStrict(Loose, JSON.parse('{"things":[{"constructor":1}]}'));
    expect(errors).toEqual([{ field: 'things.0.constructor', message: 'should not exist' }]);
  });

  it('refuses a __proto__ key without letting it become the prototype', () => {
    const query: Record<string, unknown> = Object.create(null);
    query.name = 'x';
    query.__proto__ = ['a', 'b'];
    const { value, errors } = validateStrict(Outer, query);
    expect(errors).toEqual([{ field: '__proto__', message: 'should not exist' }]);
    expect(value).toBeInstanceOf(Outer);
  });

  it('strips the property name from messages only where it leads', () => {
    expect(
      fieldErrors([{ property: 'name', constraints: { a: 'name must be a string', b: 'property name should not exist', c: 'each name' }, children: [] }]),
    ).toEqual([
      { field: 'name', message: 'must be a string' },
      { field: 'name', message: 'should not exist' },
      { field: 'name', message: 'each name' },
    ]);
  });
});
