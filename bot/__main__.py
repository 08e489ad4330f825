"""``python -m bot``: run paybot."""

from bot.app import main

raise SystemExit(main())
