; Imports in Go: one @import per import spec, its path in @source and its name in @alias.
(import_spec
  name: (_)? @alias
  path: (interpreted_string_literal (interpreted_string_literal_content) @source)) @import
