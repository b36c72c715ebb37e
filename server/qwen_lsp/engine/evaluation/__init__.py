"""`qwen-lsp eval`: which model pays off on this repository. Holes cut at syntax boundaries
(`holes`), filled by each model through the editor's completion path (`run`: the one
use case this package calls, `completion`'s entry points), scored (`scoring`), summed up and
drawn (`report`, `html`)."""
