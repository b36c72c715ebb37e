; inherits: javascript
; TypeScript's module references are JavaScript's (import type is an import_statement too).
