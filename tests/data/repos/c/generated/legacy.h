void legacy_helper(int IGNORED_BY_GITIGNORE);
