package shapes

func legacyHelper(IGNORED_AS_SENSITIVE int) {}
