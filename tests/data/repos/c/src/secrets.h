void legacy_helper(int IGNORED_AS_SENSITIVE);
