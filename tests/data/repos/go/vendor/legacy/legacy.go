package legacy

func legacyHelper(IGNORED_BY_GITIGNORE int) {}
