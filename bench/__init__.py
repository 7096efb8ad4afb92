"""The benchmark harness of `feeds` (not part of the installed package).

python -m bench [--runs 3] [--quick]    the benchmark (bench/__main__.py)
python -m bench.workload OUT            write the workload only
python -m bench.server FOLDER           serve a folder like the benchmark does
python -m bench.baseline CONFIG         the naive baseline pipeline alone
"""

from __future__ import annotations
