; Module references in Rust: `use` declarations (imports.py expands the use tree in @source)
; and out-of-line modules (`mod name;`, a declaration without a body).
(use_declaration
  argument: (_) @source) @import

(mod_item
  name: (identifier) @module
  !body) @import
