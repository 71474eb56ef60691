"""``python -m alphapanda_tui`` is the ``alphapanda`` command."""

from alphapanda_tui.cli import main

raise SystemExit(main())
