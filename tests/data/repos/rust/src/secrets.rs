pub fn legacy_helper(IGNORED_AS_SENSITIVE: u8) {}
