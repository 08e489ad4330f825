"""``python -m bot``: run paybot (``python -m bot sandbox``: the sandbox)."""

from bot.cli import main

raise SystemExit(main())
