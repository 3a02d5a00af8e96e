"""``python -m warmup_plugins``: the ``warmup-plugins`` command line (see :mod:`warmup_plugins.cli`)."""

from .cli import main

raise SystemExit(main())
