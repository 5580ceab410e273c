"""`python -m tools.console`: the same as the installed `orderflow` script."""

import sys

from tools.console.cli import main

sys.exit(main())
