; Import statements in Python. imports.py reads @import (the statement) and interprets it.
(import_statement) @import
(import_from_statement) @import
(future_import_statement) @import
