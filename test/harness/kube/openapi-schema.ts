/**
 * The part of apiextensions' structural-schema handling the test API server needs for custom resources:
 * defaulting, pruning of unknown fields and validation against a CRD's `openAPIV3Schema`, in that order,
 * as kube-apiserver does on create and update. Supported keywords: type, properties, items, required, enum,
 * minimum, maximum, minLength, maxLength, pattern, minItems, maxItems, default, nullable,
 * x-kubernetes-preserve-unknown-fields, x-kubernetes-int-or-string, additionalProperties (schema form).
 * Not supported: oneOf/anyOf/allOf/not, CEL rules, formats.
 */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  default?: unknown;
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
}

/** One field error, shaped like metav1.StatusCause. */
export interface FieldError {
  readonly field: string;
  readonly reason: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported';
  readonly message: string;
}

type Json = unknown;

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fills in `default`s where a field is absent (kube-apiserver defaults before it validates). */
export function applyDefaults(schema: JsonSchema, value: Json): Json {
  if (isObject(value) && schema.properties !== undefined) {
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (value[key] === undefined && sub.default !== undefined) value[key] = structuredClone(sub.default);
      if (value[key] !== undefined) value[key] = applyDefaults(sub, value[key]);
    }
  } else if (Array.isArray(value) && schema.items !== undefined) {
    return value.map((item) => applyDefaults(schema.items as JsonSchema, item));
  }
  return value;
}

/** Drops fields the schema does not declare, unless it preserves unknown fields. */
export function prune(schema: JsonSchema, value: Json): Json {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true && schema.properties === undefined) return value;
  if (isObject(value)) {
    if (typeof schema.additionalProperties === 'object') {
      const sub = schema.additionalProperties;
      for (const key of Object.keys(value)) value[key] = prune(sub, value[key]);
      return value;
    }
    const props = schema.properties ?? {};
    for (const key of Object.keys(value)) {
      const sub = props[key];
      if (sub === undefined) {
        if (schema['x-kubernetes-preserve-unknown-fields'] !== true) delete value[key];
      } else {
        value[key] = prune(sub, value[key]);
      }
    }
  } else if (Array.isArray(value) && schema.items !== undefined) {
    return value.map((item) => prune(schema.items as JsonSchema, item));
  }
  return value;
}

function typeOk(schema: JsonSchema, value: Json): boolean {
  if (schema['x-kubernetes-int-or-string'] === true) return typeof value === 'string' || Number.isInteger(value);
  switch (schema.type) {
    case undefined:
      return true;
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return false;
  }
}

/** Every violation of `schema` in `value`, with kube-style field paths (`spec.replicas`). */
export function validate(schema: JsonSchema, value: Json, path: string, errors: FieldError[] = []): FieldError[] {
  if (value === null && schema.nullable === true) return errors;
  if (!typeOk(schema, value)) {
    errors.push({ field: path, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${path} in body must be of type ${schema.type ?? 'int-or-string'}` });
    return errors;
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    const allowed = schema.enum.map((e) => JSON.stringify(e)).join(', ');
    errors.push({ field: path, reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed}` });
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(invalid(path, value, `should be greater than or equal to ${schema.minimum}`));
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(invalid(path, value, `should be less than or equal to ${schema.maximum}`));
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(invalid(path, value, `should be at least ${schema.minLength} chars long`));
    if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(invalid(path, value, `may not be longer than ${schema.maxLength}`));
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) errors.push(invalid(path, value, `should match '${schema.pattern}'`));
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(invalid(path, value, `should have at least ${schema.minItems} items`));
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(invalid(path, value, `should have at most ${schema.maxItems} items`));
    if (schema.items !== undefined) value.forEach((item, i) => validate(schema.items as JsonSchema, item, `${path}[${i}]`, errors));
  }
  if (isObject(value)) {
    for (const key of schema.required ?? []) {
      if (value[key] === undefined) errors.push({ field: join(path, key), reason: 'FieldValueRequired', message: 'Required value' });
    }
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      if (value[key] !== undefined) validate(sub, value[key], join(path, key), errors);
    }
    if (typeof schema.additionalProperties === 'object') {
      for (const [key, v] of Object.entries(value)) validate(schema.additionalProperties, v, join(path, key), errors);
    }
  }
  return errors;
}

function invalid(path: string, value: Json, why: string): FieldError {
  return { field: path, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${path} in body ${why}` };
}

/**
 * Structural-schema rules apiextensions enforces when a CRD is created (a subset): every node has a type
 * (unless it preserves unknown fields or is int-or-string), objects declare properties or preserve unknown
 * fields, arrays declare items. Returns the paths that break them.
 */
export function structuralViolations(schema: JsonSchema, path = 'openAPIV3Schema'): string[] {
  const out: string[] = [];
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (schema.type === undefined && !preserve && schema['x-kubernetes-int-or-string'] !== true) out.push(`${path}.type: Required value`);
  if (schema.type === 'array' && schema.items === undefined) out.push(`${path}.items: Required value`);
  if (schema.type === 'object' && schema.properties === undefined && schema.additionalProperties === undefined && !preserve && path !== 'openAPIV3Schema.properties.metadata') {
    out.push(`${path}.properties: Required value (or x-kubernetes-preserve-unknown-fields)`);
  }
  for (const [key, sub] of Object.entries(schema.properties ?? {})) out.push(...structuralViolations(sub, `${path}.properties.${key}`));
  if (schema.items !== undefined) out.push(...structuralViolations(schema.items, `${path}.items`));
  if (typeof schema.additionalProperties === 'object') out.push(...structuralViolations(schema.additionalProperties, `${path}.additionalProperties`));
  if (schema.default !== undefined) {
    const errs = validate(schema, structuredClone(schema.default), `${path}.default`);
    out.push(...errs.map((e) => `${e.field}: ${e.message}`));
  }
  return out;
}
