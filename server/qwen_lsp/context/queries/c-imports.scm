; Includes in C and C++: quoted paths in @source, <system> paths in @system.
(preproc_include
  path: (string_literal (string_content) @source)) @import

(preproc_include
  path: (system_lib_string) @system) @import
