/**
 * The one error vocabulary of cashloop. Every rule the core enforces fails with a
 * DomainError of one of these kinds; the HTTP API and the CLI map the kind to a status
 * code or exit code in exactly one place each (see `httpStatus` and `exitCode`).
 */
export type ErrorKind =
  | 'invalid' // the input breaks a rule of its own (bad field, bad value)
  | 'not_found' // the named document does not exist (or is not visible to the caller)
  | 'conflict' // the input clashes with what is stored (duplicate id, over-application)
  | 'unprocessable' // well-formed, but cannot be taken as sent (an Idempotency-Key resent with another body)
  | 'transition' // the document cannot make that move from its current state
  | 'unauthorized' // no or unknown credentials
  | 'forbidden' // credentials known, action not allowed for this role
  | 'rate_limited';

export interface ErrorDetail {
  /** Entity the rule belongs to: "order", "invoice", "payment" … */
  entity?: string;
  /** Identifier of the document, as the user knows it (id or number). */
  id?: string | number;
  /** Input field that carried the bad value, in dotted path form (`lines.0.quantity`). */
  field?: string;
  /** The offending value, as given. */
  value?: unknown;
  /** Short machine name of the rule that was broken (`quantity_positive`). */
  rule?: string;
}

export class DomainError extends Error {
  readonly kind: ErrorKind;
  readonly detail: ErrorDetail;
  /** Further problems found in the same input (bulk validation reports them all). */
  readonly problems: (ErrorDetail & { message: string })[];

  constructor(kind: ErrorKind, message: string, detail: ErrorDetail = {}, problems: (ErrorDetail & { message: string })[] = []) {
    super(message);
    this.name = 'DomainError';
    this.kind = kind;
    this.detail = detail;
    this.problems = problems;
  }
}

export const invalid = (message: string, detail: ErrorDetail = {}) => new DomainError('invalid', message, detail);
export const notFound = (entity: string, id: string | number) =>
  new DomainError('not_found', `${entity} ${id} does not exist`, { entity, id, rule: 'exists' });
export const conflict = (message: string, detail: ErrorDetail = {}) => new DomainError('conflict', message, detail);
export const badTransition = (entity: string, id: string | number, from: string, to: string, why?: string) =>
  new DomainError(
    'transition',
    `${entity} ${id} cannot move from ${from} to ${to}${why ? `: ${why}` : ''}`,
    { entity, id, rule: `transition_${from}_to_${to}`, value: from },
  );

/** HTTP status for each kind: the only place this mapping is written. */
export function httpStatus(kind: ErrorKind): number {
  switch (kind) {
    case 'invalid':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
    case 'transition':
      return 409;
    case 'unprocessable':
      return 422;
    case 'rate_limited':
      return 429;
  }
}

/** CLI exit code for each kind: 2 invalid input, 3 not found, 4 conflict or invalid transition. */
export function exitCode(kind: ErrorKind): number {
  switch (kind) {
    case 'invalid':
    case 'unprocessable':
      return 2;
    case 'not_found':
      return 3;
    case 'conflict':
    case 'transition':
      return 4;
    case 'unauthorized':
    case 'forbidden':
    case 'rate_limited':
      return 5;
  }
}
