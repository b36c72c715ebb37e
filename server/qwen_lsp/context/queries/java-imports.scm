; Imports in Java: imports.py reads the statement (@import), static or wildcard included.
(import_declaration) @import
