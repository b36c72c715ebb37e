pub fn legacy_helper(IGNORED_BY_EXCLUDE: u8) {}
