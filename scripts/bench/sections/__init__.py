"""The benchmark's sections: each module measures one thing beyond the speedup grid and writes
its part of results.md. A section is a module with any of

    KEY                                       the results.json list it fills (created empty)
    add_arguments(parser)                     its own options, after the common ones
    per_case(run, mp, case, image, ref, n)    measures after the grid's cells of one size and case
    after_sizes(run)                          measures once every size is done
    markdown(res) -> [lines]                  its part of results.md, from results.json

`run` (cli.Run) holds args, bench (runner.Bench), results, sizes, runs, mid (the middle size),
log() and save(). Adding a section is a new module and its name's line in NAMES, which is the
order both of measuring and of results.md.
"""
from importlib import import_module

# The sections by module name: the order of measuring and of results.md.
NAMES = [
    "encode_variants",
    "halo_modes",
    "decode_modes",
    "opencv",
    "dask",
    "memory",
    "break_even",
]
SECTIONS = [import_module(f".{name}", __name__) for name in NAMES]
