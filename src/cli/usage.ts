/** Thrown for a wrong command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** A refusal to start that the operator fixes in the configuration: printed alone, exit code 78 (EX_CONFIG). */
export class StartRefused extends Error {}
