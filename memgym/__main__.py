"""`python -m memgym` runs the command line."""

from memgym.cli import main

raise SystemExit(main())
