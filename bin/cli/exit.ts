/** Thrown by a command to end with a given exit code after it has already printed what went wrong. */
export class ExitError extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'ExitError';
  }
}
