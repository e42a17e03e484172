// Parser for the ListUsers `Filter` parameter: `AttributeName Operator "AttributeValue"`.
import { InvalidParameterException } from '../errors.js';

export const searchableAttributes = [
  'username',
  'email',
  'phone_number',
  'name',
  'given_name',
  'family_name',
  'preferred_username',
  'cognito:user_status', // UNCONFIRMED, CONFIRMED, ... (Cognito compares case-insensitively)
  'status', // Enabled / Disabled
  'sub',
] as const;

export type SearchableAttribute = (typeof searchableAttributes)[number];

export interface UserFilter {
  attribute: SearchableAttribute;
  op: 'eq' | 'prefix';
  value: string;
}

// Value must be double-quoted; backslash escapes the next character. Spaces around the
// operator are optional. `s` so that a quoted value may contain newlines.
const FILTER = /^\s*([A-Za-z_:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$/s;

export function parseUserFilter(filter: string | undefined): UserFilter | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  const m = FILTER.exec(filter);
  if (!m) throw new InvalidParameterException('Error while parsing filter.');
  const [, name, op, raw] = m;
  if (!(searchableAttributes as readonly string[]).includes(name))
    throw new InvalidParameterException(`Invalid search attribute: ${name}`);
  return {
    attribute: name as SearchableAttribute,
    op: op === '=' ? 'eq' : 'prefix',
    value: raw.replace(/\\(.)/gs, '$1'),
  };
}
