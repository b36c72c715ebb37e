export function legacyHelper(IGNORED_BY_EXCLUDE: unknown): void {}
