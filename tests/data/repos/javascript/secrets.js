export function legacyHelper(IGNORED_AS_SENSITIVE) {}
