"""`python -m monitor` runs the same CLI as `news-monitor`."""

from monitor.cli import main

raise SystemExit(main())
