"""`python -m qtau.cli ...` runs the `qtau` command."""

import sys

from qtau.cli import main

sys.exit(main())
