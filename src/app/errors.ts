// Coded domain errors; the HTTP layer maps each code to a status once, the chat layer to a toast.
export interface ErrorDetail {
  path: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly code: 'validation_failed' | 'not_found' | 'conflict' | 'not_authorized' | 'unknown_user' | 'already_decided' | 'busy',
    message: string,
    readonly details: unknown[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationFailed extends AppError {
  constructor(message: string, details: ErrorDetail[]) {
    super('validation_failed', message, details);
  }
}

export class NotFound extends AppError {
  constructor(what: string) {
    super('not_found', `${what} not found`);
  }
}

export class Conflict extends AppError {
  constructor(message: string, details: unknown[] = []) {
    super('conflict', message, details);
  }
}
