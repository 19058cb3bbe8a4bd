/**
 * The closed set of error codes of the API (CONTRACT.md section 2), each mapped to its HTTP
 * status and message by this one table. Services throw AppError; one plugin renders it.
 */
export const ERRORS = {
  INTERNAL: { code: 1000, status: 500, message: 'Internal error' },
  ROUTE_NOT_FOUND: { code: 1002, status: 404, message: 'Route not found' },
  // Openroll's own codes, beyond the vendor's table (README "Errors" lists them).
  METHOD_NOT_ALLOWED: { code: 1003, status: 405, message: 'Method not allowed' },
  REQUEST_TIMEOUT: { code: 1004, status: 408, message: 'Request timeout' },
  HEADERS_TOO_LARGE: { code: 1005, status: 431, message: 'Request header fields too large' },
  VALIDATION: { code: 3000, status: 400, message: 'Validation Error' },
  NOT_FOUND: { code: 3001, status: 404, message: 'Entity not found' },
  DATABASE: { code: 3002, status: 503, message: 'Database Error' },
  /** A statement ran past its bound (STATEMENT_TIMEOUT_MS, WRITE_STATEMENT_TIMEOUT_MS) and was stopped. */
  DATABASE_TIMEOUT: { code: 3004, status: 503, message: 'Database Timeout' },
  PAYLOAD_TOO_LARGE: { code: 3003, status: 413, message: 'Payload Too Large' },
  NO_AUTH_TOKEN: { code: 4002, status: 401, message: 'No auth token' },
  FORBIDDEN: { code: 4003, status: 403, message: 'Forbidden' },
  INVALID_TOKEN: { code: 4004, status: 401, message: 'Invalid Token' },
  TOKEN_EXPIRED: { code: 4005, status: 401, message: 'Token Expired' },
  TOO_MANY_REQUESTS: { code: 4029, status: 429, message: 'Too Many Requests' },
  CONFLICT: { code: 5001, status: 409, message: 'Conflict' },
  LIMIT_EXCEEDED: { code: 5017, status: 400, message: 'Limit Exceeded' },
  MDM_USER_EXISTS: { code: 5048, status: 409, message: 'Mdm user already exists' },
  PLAN_FEATURE: { code: 5050, status: 400, message: 'Feature not allowed for you billing plan' },
  WIN_TOKEN_CREATE: { code: 5145, status: 400, message: 'Error creating winEnrollmentToken' },
  ADM_TOKEN_CREATE: { code: 5145, status: 400, message: 'Error creating admEnrollmentToken' },
  TOKEN_NOT_PENDING: { code: 5146, status: 400, message: 'Enrollment token is not pending' },
} as const;

export type ErrorName = keyof typeof ERRORS;

export interface FieldError {
  path: string;
  message: string;
}

export interface ErrorData {
  errors?: FieldError[];
  [key: string]: unknown;
}

export class AppError extends Error {
  readonly code: number;
  readonly statusCode: number;
  readonly data: ErrorData | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(name: ErrorName, options: { data?: ErrorData; message?: string; headers?: Record<string, string> } = {}) {
    const entry = ERRORS[name];
    super(options.message ?? entry.message);
    this.name = 'AppError';
    this.code = entry.code;
    this.statusCode = entry.status;
    this.data = options.data;
    this.headers = options.headers;
  }
}

export function notFound(): AppError {
  return new AppError('NOT_FOUND');
}

export function validationError(errors: FieldError[]): AppError {
  return new AppError('VALIDATION', { data: { errors } });
}
