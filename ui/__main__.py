"""``python -m ui traveller|officer|technician|all [--config FILE]`` (see ``ui.launch``)."""

from ui.launch import main

raise SystemExit(main())
