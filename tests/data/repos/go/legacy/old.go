package legacy

func legacyHelper(IGNORED_BY_EXCLUDE int) {}
