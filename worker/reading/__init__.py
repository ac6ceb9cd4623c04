"""How well the worker reads Portuguese, measured: the labelled corpus that ships with the package
and the `evaluate-reading` command. Outside the core on purpose: loading files is I/O."""
