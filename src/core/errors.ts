/**
 * Errors a user can cause (a bad file, a wrong flag, an adapter for another model).
 * They carry a message a person understands and, where known, the file it is about.
 * Anything that is not a UserError is a bug in the studio.
 */
export type UserErrorCode =
  | 'bad-file' // malformed or hostile file content
  | 'missing-file' // a file the operation needs is not there
  | 'unsupported' // a valid file the studio does not support (e.g. an unknown rope_scaling)
  | 'shape-mismatch' // tensors of the wrong shape
  | 'wrong-model' // an adapter or selection made for another base model
  | 'bad-argument' // a flag or setting out of range
  | 'too-large' // exceeds a size limit or the device's memory
  | 'training-diverged'; // NaN/Inf loss or gradient

export class UserError extends Error {
  readonly code: UserErrorCode;
  readonly file?: string;

  constructor(code: UserErrorCode, message: string, file?: string) {
    super(file ? `${file}: ${message}` : message);
    this.name = 'UserError';
    this.code = code;
    this.file = file;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
