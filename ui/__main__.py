"""``python -m ui traveller|officer|technician|all [--config FILE]`` (see ``ui.launch``), and
``python -m ui bench-gui [--json]``: the event-loop stall benchmark (see ``ui.bench_gui``)."""

import sys

if sys.argv[1:2] == ["bench-gui"]:
    from ui.bench_gui import main as bench_main

    raise SystemExit(bench_main(sys.argv[2:]))

from ui.launch import main

raise SystemExit(main())
