pub fn legacy_helper(IGNORED_BY_GITIGNORE: u8) {}
