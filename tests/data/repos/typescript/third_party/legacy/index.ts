export function legacyHelper(IGNORED_BY_GITIGNORE: unknown): void {}
