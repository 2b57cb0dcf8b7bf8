/**
 * A JSON Schema checker for the subset the project's schemas use: type
 * (including integer and type lists), enum, required, properties,
 * additionalProperties (false or a schema), items, minimum, maximum, pattern,
 * minProperties, maxProperties. Returns every violation with its JSON path.
 */
export type Schema = Record<string, unknown>;

function typeOk(t: string, v: unknown): boolean {
  switch (t) {
    case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array': return Array.isArray(v);
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'null': return v === null;
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    default: throw new Error(`schema: unsupported type '${t}'`);
  }
}

export function validate(schema: Schema, v: unknown, path = '$'): string[] {
  const errs: string[] = [];
  const known = new Set(['$schema', '$comment', 'type', 'enum', 'required', 'properties', 'additionalProperties', 'items', 'minimum', 'maximum', 'pattern', 'minProperties', 'maxProperties']);
  for (const k of Object.keys(schema)) if (!known.has(k)) throw new Error(`schema: unsupported keyword '${k}' at ${path}`);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type as string[] : [schema.type as string];
    if (!types.some((t) => typeOk(t, v))) return [`${path}: expected ${types.join(' or ')}, got ${JSON.stringify(v)}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === v)) errs.push(`${path}: ${JSON.stringify(v)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof v === 'number') {
    if (typeof schema.minimum === 'number' && v < schema.minimum) errs.push(`${path}: ${v} < minimum ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && v > schema.maximum) errs.push(`${path}: ${v} > maximum ${schema.maximum}`);
  }
  if (typeof v === 'string' && typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(v)) errs.push(`${path}: '${v}' does not match ${schema.pattern}`);
  if (Array.isArray(v) && schema.items) v.forEach((x, i) => errs.push(...validate(schema.items as Schema, x, `${path}[${i}]`)));
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    for (const r of (schema.required as string[] | undefined) ?? []) if (!(r in o)) errs.push(`${path}: missing '${r}'`);
    if (typeof schema.minProperties === 'number' && keys.length < schema.minProperties) errs.push(`${path}: fewer than ${schema.minProperties} properties`);
    if (typeof schema.maxProperties === 'number' && keys.length > schema.maxProperties) errs.push(`${path}: more than ${schema.maxProperties} properties`);
    const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const k of keys) {
      if (props[k]) errs.push(...validate(props[k], o[k], `${path}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${path}: unexpected key '${k}'`);
      else if (typeof schema.additionalProperties === 'object') errs.push(...validate(schema.additionalProperties as Schema, o[k], `${path}.${k}`));
    }
  }
  return errs;
}
